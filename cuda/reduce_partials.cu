#include "cuda_check.cuh"
#include "reduce_partials.cuh"

namespace backprop::cuda {
namespace {

// Block c adds column c: partial b of it is at partials[b * columns + c].
template <class T>
__global__ void reduce_partials_kernel(const T* partials, std::size_t count, int columns, double* sums, bool first,
                                       T* rounded) {
  __shared__ double lane[kReduceBlock];
  const int c = blockIdx.x;
  double total = 0;
  for (std::size_t b = threadIdx.x; b < count; b += kReduceBlock) total += partials[b * columns + c];
  lane[threadIdx.x] = total;
  __syncthreads();
  for (int half = kReduceBlock / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) lane[threadIdx.x] += lane[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const double sum = (first ? 0.0 : sums[c]) + lane[0];
    sums[c] = sum;
    if (rounded != nullptr) rounded[c] = static_cast<T>(sum);
  }
}

}  // namespace

template <class T>
void reduce_partials(const T* partials, std::size_t count, int columns, double* sums, bool first, T* rounded,
                     cudaStream_t stream) {
  reduce_partials_kernel<<<columns, kReduceBlock, 0, stream>>>(partials, count, columns, sums, first, rounded);
  BACKPROP_CUDA_CHECK_LAUNCH("reduce_partials_kernel");
}

template void reduce_partials<float>(const float*, std::size_t, int, double*, bool, float*, cudaStream_t);
template void reduce_partials<double>(const double*, std::size_t, int, double*, bool, double*, cudaStream_t);

}  // namespace backprop::cuda
