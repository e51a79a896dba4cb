#include "cuda_check.cuh"
#include "parameter_check.cuh"

namespace backprop::cuda {
namespace {

// x - x is 0 for a finite x and NaN for an infinite or NaN one.
template <class T>
__device__ int count_non_finite(const T* values, std::size_t count) {
  int found = 0;
  for (std::size_t i = threadIdx.x; i < count; i += kCheckBlock) found += (values[i] - values[i]) == T(0) ? 0 : 1;
  return found;
}

// One block: each thread counts what it sees, a tree of integers adds the
// counts, and thread 0 writes the answer.
template <class T>
__global__ void parameters_finite_kernel(const T* params, std::size_t count, double* finite) {
  __shared__ int lanes[kCheckBlock];
  lanes[threadIdx.x] = count_non_finite(params, count);
  __syncthreads();
  for (int half = kCheckBlock / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) lanes[threadIdx.x] += lanes[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) *finite = lanes[0] == 0 ? 1.0 : 0.0;
}

}  // namespace

template <class T>
void check_parameters_finite(const T* params, std::size_t count, double* finite, cudaStream_t stream) {
  parameters_finite_kernel<<<1, kCheckBlock, 0, stream>>>(params, count, finite);
  BACKPROP_CUDA_CHECK_LAUNCH("parameters_finite_kernel");
}

template void check_parameters_finite<float>(const float*, std::size_t, double*, cudaStream_t);
template void check_parameters_finite<double>(const double*, std::size_t, double*, cudaStream_t);

}  // namespace backprop::cuda
