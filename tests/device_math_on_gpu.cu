// device_math_values in a kernel, built with the CUDA backend's flags
// (--fmad=false, tests/CMakeLists.txt), so that it rounds as the backend's
// kernels do.
#include "device_buffer.cuh"
#include "device_math_on_gpu.cuh"

namespace backprop::testing {
namespace {

__global__ void device_math_kernel(const float* inputs, std::size_t count, float* values) {
  const std::size_t k = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (k >= count) return;
  float out[kDeviceMathValues];
  device_math_values(inputs[k], out);
  for (int v = 0; v < kDeviceMathValues; ++v) values[k * kDeviceMathValues + v] = out[v];
}

}  // namespace

std::vector<float> device_math_on_gpu(const std::vector<float>& inputs) {
  const cuda::Stream stream;
  cuda::DeviceBuffer<float> in(inputs.size()), values(inputs.size() * kDeviceMathValues);
  in.upload(inputs, stream.get());
  constexpr int kBlock = 256;
  device_math_kernel<<<(inputs.size() + kBlock - 1) / kBlock, kBlock, 0, stream.get()>>>(in.data(), inputs.size(),
                                                                                          values.data());
  BACKPROP_CUDA_CHECK_LAUNCH("device_math_kernel");
  return values.download(values.size(), stream.get());
}

}  // namespace backprop::testing
