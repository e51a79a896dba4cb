// The GPU's memory-read bandwidth, measured beside the training steps, so
// that the tables and charts set the steps against what this GPU can read in
// the same run rather than against a datasheet figure. The narrow step
// streams the data set once per epoch (12 bytes per XOR sample): its ceiling
// is this rate / 12 samples/s.
//
// One iteration sums a 1 GiB array of floats, 20 times the largest L2 cache,
// into one partial sum per block: every byte read once from memory, almost
// nothing written. Timed with CUDA events around the launch.
#include <cstddef>
#include <string>

#include "backprop/error.hpp"
#include "device_buffer.cuh"
#include "read_bandwidth.hpp"

namespace {

using backprop::cuda::DeviceBuffer;
using backprop::cuda::Event;
using backprop::cuda::Stream;

constexpr std::size_t kBytes = std::size_t{1} << 30;
constexpr int kThreads = 256;
constexpr int kBlocksPerSm = 2048 / kThreads;  // every thread slot of an H100/H200 SM filled
constexpr int kLoadsInFlight = 4;              // per thread: enough bytes in flight to cover HBM latency

// partials[block] = Σ of the floats its threads read. The grid strides over
// the whole array a float4 at a time, kLoadsInFlight loads issued before the
// first is added, since a thread stalls at the first use of a load.
__global__ void sum_floats_kernel(const float4* __restrict__ data, std::size_t count4, float* partials) {
  __shared__ float thread_sums[kThreads];
  const std::size_t stride = std::size_t{gridDim.x} * kThreads;
  std::size_t i = std::size_t{blockIdx.x} * kThreads + threadIdx.x;
  float sum = 0;
  for (; i + (kLoadsInFlight - 1) * stride < count4; i += kLoadsInFlight * stride) {
    float4 v[kLoadsInFlight];
#pragma unroll
    for (int k = 0; k < kLoadsInFlight; ++k) v[k] = data[i + k * stride];
#pragma unroll
    for (int k = 0; k < kLoadsInFlight; ++k) sum += (v[k].x + v[k].y) + (v[k].z + v[k].w);
  }
  for (; i < count4; i += stride) {
    const float4 v = data[i];
    sum += (v.x + v.y) + (v.z + v.w);
  }
  thread_sums[threadIdx.x] = sum;
  __syncthreads();
  for (int width = kThreads / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) thread_sums[threadIdx.x] += thread_sums[threadIdx.x + width];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = thread_sums[0];
}

__global__ void fill_with_ones_kernel(float4* data, std::size_t count4) {
  const std::size_t stride = std::size_t{gridDim.x} * kThreads;
  for (std::size_t i = std::size_t{blockIdx.x} * kThreads + threadIdx.x; i < count4; i += stride) {
    data[i] = make_float4(1.f, 1.f, 1.f, 1.f);
  }
}

void fill_with_ones(DeviceBuffer<float4>& data, int blocks, cudaStream_t stream) {
  fill_with_ones_kernel<<<blocks, kThreads, 0, stream>>>(data.data(), data.size());
  BACKPROP_CUDA_CHECK_LAUNCH("fill_with_ones_kernel");
}

void sum_floats(const DeviceBuffer<float4>& data, DeviceBuffer<float>& partials, cudaStream_t stream) {
  sum_floats_kernel<<<static_cast<int>(partials.size()), kThreads, 0, stream>>>(data.data(), data.size(),
                                                                                   partials.data());
  BACKPROP_CUDA_CHECK_LAUNCH("sum_floats_kernel");
}

// A figure is only honest if the kernel read every float exactly once. With
// every float 1, each partial sum is a whole number below 2^24 (a block reads
// 2^28 / blocks floats), so float adds it exactly and the partials must add
// up to the float count, not one more or less.
void check_every_float_was_read_once(const DeviceBuffer<float>& partials, std::size_t count, cudaStream_t stream) {
  double total = 0;
  for (const float partial : partials.download(partials.size(), stream)) total += partial;
  if (total != static_cast<double>(count)) {
    throw backprop::Error(backprop::ErrorKind::device, "read bandwidth: the kernel's sums add up to " + std::to_string(total) + ", not " +
                          std::to_string(count) + ": it did not read every float once");
  }
}

void read_bandwidth(benchmark::State& state, void (*on_error)(benchmark::State&, const std::exception&)) {
  try {
    int device = 0, sms = 0;
    BACKPROP_CUDA_CHECK(cudaGetDevice(&device));
    BACKPROP_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    const int blocks = sms * kBlocksPerSm;
    const Stream stream;
    DeviceBuffer<float4> data(kBytes / sizeof(float4));
    DeviceBuffer<float> partials(static_cast<std::size_t>(blocks));
    fill_with_ones(data, blocks, stream.get());

    Event start, stop;
    sum_floats(data, partials, stream.get());  // warm-up: module load, clocks
    double seconds = 0;
    for (auto _ : state) {
      start.record(stream.get());
      sum_floats(data, partials, stream.get());
      stop.record(stream.get());
      stream.synchronize();
      const double iteration = Event::seconds_between(start, stop);
      state.SetIterationTime(iteration);
      seconds += iteration;
    }
    check_every_float_was_read_once(partials, data.size() * 4, stream.get());
    state.counters["bytes_per_second"] = static_cast<double>(kBytes) * static_cast<double>(state.iterations()) / seconds;
    state.counters["blocks"] = blocks;
  } catch (const std::exception& e) {
    on_error(state, e);
  }
}

}  // namespace

void register_read_bandwidth(void (*on_error)(benchmark::State&, const std::exception&)) {
  benchmark::RegisterBenchmark(("Roofline/cuda/read/" + std::to_string(kBytes)).c_str(), read_bandwidth, on_error)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}
