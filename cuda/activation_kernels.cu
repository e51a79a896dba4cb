#include "activation_kernels.cuh"
#include "activation_math.hpp"
#include "cuda_check.cuh"

namespace backprop::cuda {
namespace {

std::size_t blocks_for(std::size_t count) { return (count + kElementwiseBlock - 1) / kElementwiseBlock; }

template <class T>
__global__ void bias_sigmoid_forward_kernel(T* z1, const T* b1, std::size_t rows, int hidden) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * hidden) return;
  z1[i] = math::sigmoid(z1[i] + b1[i % hidden]);
}

// Adds the row lanes of each column in shared memory, halving the lanes each
// step: a fixed tree, the same on every run. lanes[lane * tile + column];
// blockDim.y (the lane count) is a power of two. Afterwards lane 0 holds the
// column sums.
template <class T>
__device__ void sum_row_lanes(T* lanes) {
  const int tile = blockDim.x;
  for (int half = blockDim.y / 2; half > 0; half /= 2) {
    if (threadIdx.y < half) {
      lanes[threadIdx.y * tile + threadIdx.x] += lanes[(threadIdx.y + half) * tile + threadIdx.x];
    }
    __syncthreads();
  }
}

template <class T>
__global__ void bce_sigmoid_backward_kernel(T* z2, const T* y, const T* b2, std::size_t rows,
                                            int outputs, T inv_samples, T* db2_partials,
                                            T* loss_partials) {
  __shared__ T db2_lanes[kReduceThreads];
  __shared__ T loss_lanes[kReduceThreads];
  const int o = blockIdx.x * blockDim.x + threadIdx.x;
  const std::size_t first = blockIdx.y * static_cast<std::size_t>(kRowsPerBlock);
  const std::size_t last = min(first + kRowsPerBlock, rows);
  T db2 = 0, loss = 0;
  if (o < outputs) {
    const T bias = b2[o];
    for (std::size_t r = first + threadIdx.y; r < last; r += blockDim.y) {
      const std::size_t at = r * outputs + o;
      const T z = z2[at] + bias;
      const T target = static_cast<T>(y[at]);
      T p;
      loss += math::sigmoid_and_bce(z, target, p);
      const T dz = math::bce_sigmoid_gradient(p, target) * inv_samples;
      z2[at] = dz;
      db2 += dz;
    }
  }
  const int lane = threadIdx.y * blockDim.x + threadIdx.x;
  db2_lanes[lane] = db2;
  loss_lanes[lane] = loss;
  __syncthreads();
  sum_row_lanes(db2_lanes);
  sum_row_lanes(loss_lanes);
  if (threadIdx.y == 0 && o < outputs) {
    db2_partials[blockIdx.y * static_cast<std::size_t>(outputs) + o] = db2_lanes[threadIdx.x];
  }
  if (lane == 0) {
    T total = 0;  // the tile's columns, in order
    for (int c = 0; c < static_cast<int>(blockDim.x); ++c) total += loss_lanes[c];
    loss_partials[blockIdx.y * static_cast<std::size_t>(gridDim.x) + blockIdx.x] = total;
  }
}

template <class T>
__global__ void sigmoid_backward_kernel(T* da1, const T* a1, std::size_t rows, int hidden,
                                        T* db1_partials) {
  __shared__ T db1_lanes[kReduceThreads];
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  const std::size_t first = blockIdx.y * static_cast<std::size_t>(kRowsPerBlock);
  const std::size_t last = min(first + kRowsPerBlock, rows);
  T db1 = 0;
  if (j < hidden) {
    for (std::size_t r = first + threadIdx.y; r < last; r += blockDim.y) {
      const std::size_t at = r * hidden + j;
      const T dz = da1[at] * math::sigmoid_derivative(a1[at]);
      da1[at] = dz;
      db1 += dz;
    }
  }
  db1_lanes[threadIdx.y * blockDim.x + threadIdx.x] = db1;
  __syncthreads();
  sum_row_lanes(db1_lanes);
  if (threadIdx.y == 0 && j < hidden) {
    db1_partials[blockIdx.y * static_cast<std::size_t>(hidden) + j] = db1_lanes[threadIdx.x];
  }
}

template <class T>
__global__ void output_sigmoid_kernel(const T* z2, const T* b2, std::size_t rows, int outputs,
                                      T* probabilities) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * outputs) return;
  probabilities[i] = math::sigmoid(z2[i] + b2[i % outputs]);
}

template <class T>
__global__ void widen_kernel(const float* from, T* to, std::size_t count) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < count) to[i] = static_cast<T>(from[i]);
}

dim3 tile_grid(std::size_t rows, int cols) {
  return dim3(column_tiles(cols), static_cast<unsigned>(row_blocks(rows)));
}
dim3 tile_block(int cols) {
  const int tile = column_tile(cols);
  return dim3(tile, kReduceThreads / tile);
}

}  // namespace

template <class T>
void bias_sigmoid_forward(T* z1, const T* b1, std::size_t rows, int hidden, cudaStream_t stream) {
  bias_sigmoid_forward_kernel<<<blocks_for(rows * hidden), kElementwiseBlock, 0, stream>>>(z1, b1, rows, hidden);
  BACKPROP_CUDA_CHECK_LAUNCH("bias_sigmoid_forward_kernel");
}

template <class T>
void bce_sigmoid_backward(T* z2, const T* y, const T* b2, std::size_t rows, int outputs,
                          T inv_samples, T* db2_partials, T* loss_partials, cudaStream_t stream) {
  bce_sigmoid_backward_kernel<<<tile_grid(rows, outputs), tile_block(outputs), 0, stream>>>(
      z2, y, b2, rows, outputs, inv_samples, db2_partials, loss_partials);
  BACKPROP_CUDA_CHECK_LAUNCH("bce_sigmoid_backward_kernel");
}

template <class T>
void sigmoid_backward(T* da1, const T* a1, std::size_t rows, int hidden, T* db1_partials,
                      cudaStream_t stream) {
  sigmoid_backward_kernel<<<tile_grid(rows, hidden), tile_block(hidden), 0, stream>>>(
      da1, a1, rows, hidden, db1_partials);
  BACKPROP_CUDA_CHECK_LAUNCH("sigmoid_backward_kernel");
}

template <class T>
void output_sigmoid(const T* z2, const T* b2, std::size_t rows, int outputs, T* probabilities,
                    cudaStream_t stream) {
  output_sigmoid_kernel<<<blocks_for(rows * outputs), kElementwiseBlock, 0, stream>>>(z2, b2, rows, outputs,
                                                                                       probabilities);
  BACKPROP_CUDA_CHECK_LAUNCH("output_sigmoid_kernel");
}

template <class T>
void widen(const float* from, T* to, std::size_t count, cudaStream_t stream) {
  if (count == 0) return;
  widen_kernel<<<blocks_for(count), kElementwiseBlock, 0, stream>>>(from, to, count);
  BACKPROP_CUDA_CHECK_LAUNCH("widen_kernel");
}

#define BACKPROP_INSTANTIATE(T)                                                                      \
  template void bias_sigmoid_forward<T>(T*, const T*, std::size_t, int, cudaStream_t);               \
  template void bce_sigmoid_backward<T>(T*, const T*, const T*, std::size_t, int, T, T*, T*,     \
                                        cudaStream_t);                                               \
  template void sigmoid_backward<T>(T*, const T*, std::size_t, int, T*, cudaStream_t);               \
  template void output_sigmoid<T>(const T*, const T*, std::size_t, int, T*, cudaStream_t);           \
  template void widen<T>(const float*, T*, std::size_t, cudaStream_t);
BACKPROP_INSTANTIATE(float)
BACKPROP_INSTANTIATE(double)
#undef BACKPROP_INSTANTIATE

}  // namespace backprop::cuda
