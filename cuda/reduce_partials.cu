#include "cuda_check.cuh"
#include "reduce_partials.cuh"

namespace backprop::cuda {
namespace {

// Partial b of column c is at partials[b * row_stride + c * column_stride].
template <class T>
__global__ void reduce_partials_kernel(const T* partials, std::size_t count, std::size_t row_stride,
                                       std::size_t column_stride, double* sums, bool first) {
  __shared__ double lane[kReduceBlock];
  const int c = blockIdx.x;
  const T* column = partials + c * column_stride;
  double total = 0;
  for (std::size_t b = threadIdx.x; b < count; b += kReduceBlock) total += column[b * row_stride];
  lane[threadIdx.x] = total;
  __syncthreads();
  for (int half = kReduceBlock / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) lane[threadIdx.x] += lane[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) sums[c] = (first ? 0.0 : sums[c]) + lane[0];
}

}  // namespace

template <class T>
void reduce_partials(const T* partials, std::size_t count, int columns, double* sums, bool first,
                     cudaStream_t stream) {
  reduce_partials_kernel<<<columns, kReduceBlock, 0, stream>>>(partials, count, columns, 1, sums, first);
  BACKPROP_CUDA_CHECK_LAUNCH("reduce_partials_kernel");
}

template <class T>
void reduce_partial_columns(const T* partials, std::size_t count, int columns, double* sums, cudaStream_t stream) {
  reduce_partials_kernel<<<columns, kReduceBlock, 0, stream>>>(partials, count, 1, count, sums, true);
  BACKPROP_CUDA_CHECK_LAUNCH("reduce_partials_kernel");
}

template void reduce_partials<float>(const float*, std::size_t, int, double*, bool, cudaStream_t);
template void reduce_partials<double>(const double*, std::size_t, int, double*, bool, cudaStream_t);
template void reduce_partial_columns<float>(const float*, std::size_t, int, double*, cudaStream_t);
template void reduce_partial_columns<double>(const double*, std::size_t, int, double*, cudaStream_t);

}  // namespace backprop::cuda
