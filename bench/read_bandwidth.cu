// The GPU's memory-read bandwidth, measured beside the training steps, so
// that the tables and charts set the steps against what this GPU can read in
// the same run rather than against a datasheet figure. The narrow step
// streams the data set once per epoch (12 bytes per XOR sample): its ceiling
// is this rate / 12 samples/s.
//
// One iteration sums a 1 GiB array of floats, 20 times the largest L2 cache,
// into one partial sum per block: every byte read once from memory, almost
// nothing written. Timed with CUDA events around the launch.
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "backprop/error.hpp"
#include "read_bandwidth.hpp"

namespace {

constexpr std::size_t kBytes = std::size_t{1} << 30;
constexpr int kThreads = 256;
constexpr int kBlocksPerSm = 2048 / kThreads;  // every thread slot of an H100/H200 SM filled
constexpr int kLoadsInFlight = 4;              // per thread: enough bytes in flight to cover HBM latency

void check(cudaError_t status, const char* call) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // do not leave the error for the next check to report
  throw backprop::Error(std::string("CUDA error in ") + call + ": " + cudaGetErrorName(status) + ": " +
                        cudaGetErrorString(status));
}
#define READ_BANDWIDTH_CHECK(call) check((call), #call)

struct FreeDeviceMemory {
  void operator()(void* pointer) const noexcept { cudaFree(pointer); }
};
template <class T>
using DeviceArray = std::unique_ptr<T[], FreeDeviceMemory>;

template <class T>
DeviceArray<T> device_array(std::size_t count) {
  void* pointer = nullptr;
  READ_BANDWIDTH_CHECK(cudaMalloc(&pointer, count * sizeof(T)));
  return DeviceArray<T>(static_cast<T*>(pointer));
}

struct DestroyEvent {
  void operator()(cudaEvent_t event) const noexcept { cudaEventDestroy(event); }
};
using Event = std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, DestroyEvent>;

Event make_event() {
  cudaEvent_t event = nullptr;
  READ_BANDWIDTH_CHECK(cudaEventCreate(&event));
  return Event(event);
}

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

void sum_floats(const float4* data, std::size_t count4, float* partials, int blocks) {
  sum_floats_kernel<<<blocks, kThreads>>>(data, count4, partials);
  READ_BANDWIDTH_CHECK(cudaGetLastError());
}

// A figure is only honest if the kernel read every float exactly once. With
// every float 1, each partial sum is a whole number below 2^24 (a block reads
// 2^28 / blocks floats), so float adds it exactly and the partials must add
// up to the float count, not one more or less.
void check_every_float_was_read_once(const DeviceArray<float>& partials, int blocks, std::size_t count) {
  std::vector<float> host(static_cast<std::size_t>(blocks));
  READ_BANDWIDTH_CHECK(cudaMemcpy(host.data(), partials.get(), host.size() * sizeof(float), cudaMemcpyDeviceToHost));
  double total = 0;
  for (const float partial : host) total += partial;
  if (total != static_cast<double>(count)) {
    throw backprop::Error("read bandwidth: the kernel's sums add up to " + std::to_string(total) + ", not " +
                          std::to_string(count) + ": it did not read every float once");
  }
}

void read_bandwidth(benchmark::State& state, void (*on_error)(benchmark::State&, const std::exception&)) {
  try {
    int device = 0, sms = 0;
    READ_BANDWIDTH_CHECK(cudaGetDevice(&device));
    READ_BANDWIDTH_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    const int blocks = sms * kBlocksPerSm;
    const std::size_t count4 = kBytes / sizeof(float4);
    const DeviceArray<float4> data = device_array<float4>(count4);
    const DeviceArray<float> partials = device_array<float>(static_cast<std::size_t>(blocks));
    fill_with_ones_kernel<<<blocks, kThreads>>>(data.get(), count4);
    READ_BANDWIDTH_CHECK(cudaGetLastError());

    const Event start = make_event(), stop = make_event();
    sum_floats(data.get(), count4, partials.get(), blocks);  // warm-up: module load, clocks
    double seconds = 0;
    for (auto _ : state) {
      READ_BANDWIDTH_CHECK(cudaEventRecord(start.get()));
      sum_floats(data.get(), count4, partials.get(), blocks);
      READ_BANDWIDTH_CHECK(cudaEventRecord(stop.get()));
      READ_BANDWIDTH_CHECK(cudaEventSynchronize(stop.get()));
      float ms = 0;
      READ_BANDWIDTH_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
      state.SetIterationTime(ms * 1e-3);
      seconds += ms * 1e-3;
    }
    check_every_float_was_read_once(partials, blocks, count4 * 4);
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
