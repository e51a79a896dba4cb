#include "activation_math.hpp"
#include "cuda_check.cuh"
#include "narrow_step.cuh"

namespace backprop::cuda {
namespace {

// The weights of a narrow network in registers, and its forward pass for
// one sample. The loops run to compile-time bounds (kIn >= inputs,
// kHidden >= hidden) and skip the units past the shape, so every array
// index is a constant after unrolling and the arrays stay in registers.
template <class T, int kIn, int kHidden>
struct NarrowNetwork {
  int in, h;
  T W1[kIn][kHidden] = {}, b1[kHidden] = {}, W2[kHidden] = {}, b2 = 0;

  __device__ explicit NarrowNetwork(const NarrowStep<T>& s) : in(s.inputs), h(s.hidden), b2(s.b2[0]) {
#pragma unroll
    for (int j = 0; j < kHidden; ++j) {
      if (j >= h) continue;
      b1[j] = s.b1[j];
      W2[j] = s.W2[j];
#pragma unroll
      for (int i = 0; i < kIn; ++i) {
        if (i < in) W1[i][j] = s.W1[i * h + j];
      }
    }
  }

  __device__ void load_features(const T* features, T (&x)[kIn]) const {
#pragma unroll
    for (int i = 0; i < kIn; ++i) x[i] = i < in ? features[i] : T(0);
  }

  // a = σ(x W1 + b1); returns z2 = a W2 + b2.
  __device__ T forward(const T (&x)[kIn], T (&a)[kHidden]) const {
    T z2 = b2;
#pragma unroll
    for (int j = 0; j < kHidden; ++j) {
      a[j] = 0;
      if (j >= h) continue;
      T z1 = b1[j];
#pragma unroll
      for (int i = 0; i < kIn; ++i) {
        if (i < in) z1 += x[i] * W1[i][j];
      }
      a[j] = math::sigmoid(z1);
      z2 += a[j] * W2[j];
    }
    return z2;
  }
};

// A thread's sums in a layout fixed at compile time, so that they stay in
// registers: dW1 (kIn x kHidden), db1, dW2 (kHidden each), db2, the loss.
// Rows for units past the shape stay zero and are not written out.
template <int kIn, int kHidden>
struct PaddedSums {
  static constexpr int kDW1 = 0, kDb1 = kIn * kHidden, kDW2 = kDb1 + kHidden, kDb2 = kDW2 + kHidden,
                       kLoss = kDb2 + 1, kCount = kLoss + 1;

  // Where padded row r goes in the NarrowSums layout of the true shape, or
  // -1 for a unit past it.
  __device__ static int compact_index(int r, int in, int h) {
    if (r < kDb1) {
      const int i = r / kHidden, j = r % kHidden;
      return i < in && j < h ? i * h + j : -1;
    }
    if (r < kDW2) return r - kDb1 < h ? in * h + (r - kDb1) : -1;
    if (r < kDb2) return r - kDW2 < h ? in * h + h + (r - kDW2) : -1;
    return in * h + 2 * h + (r - kDb2);  // db2, then the loss
  }
};

// Rows of the block's reduction tile: what fits in 32 KiB of shared memory,
// with each row one longer than the block to stagger the banks.
template <class T, int kCount>
constexpr int reduction_rows() {
  constexpr int fit = (32 * 1024) / static_cast<int>((kNarrowBlock + 1) * sizeof(T));
  return kCount < fit ? kCount : fit;
}

// __launch_bounds__: the f64 4-8 layout needs 253 registers; the bound keeps
// ptxas within what a block of kNarrowBlock threads may use.
template <class T, int kIn, int kHidden>
__global__ void __launch_bounds__(kNarrowBlock) narrow_step_partials_kernel(NarrowStep<T> s, std::size_t threads) {
  using Sums = PaddedSums<kIn, kHidden>;
  const std::size_t t = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  // Threads past the last one still take part in the block's reduction.
  const bool active = t < threads;
  const NarrowNetwork<T, kIn, kHidden> net(s);
  const int in = s.inputs, h = s.hidden;

  T sum[Sums::kCount] = {};
  for (std::size_t n = t; active && n < s.samples; n += threads) {  // neighbouring threads, neighbouring samples
    T x[kIn], a[kHidden];
    net.load_features(s.x + n * in, x);
    const T z2 = net.forward(x, a);
    // Backward: dZ2 = (σ(z2) - y) / N, dZ1 = dZ2 W2ᵀ ⊙ a (1 - a).
    const T target = static_cast<T>(s.y[n]);
    sum[Sums::kLoss] += math::bce_from_logit(z2, target);
    const T dz2 = math::bce_sigmoid_gradient(math::sigmoid(z2), target) * s.inv_samples;
    sum[Sums::kDb2] += dz2;
#pragma unroll
    for (int j = 0; j < kHidden; ++j) {
      if (j >= h) continue;
      sum[Sums::kDW2 + j] += a[j] * dz2;
      const T dz1 = dz2 * net.W2[j] * math::sigmoid_derivative(a[j]);
      sum[Sums::kDb1 + j] += dz1;
#pragma unroll
      for (int i = 0; i < kIn; ++i) {
        if (i < in) sum[Sums::kDW1 + i * kHidden + j] += x[i] * dz1;
      }
    }
  }

  // The block's sums, a tile of rows at a time: every thread writes its
  // column, then thread r adds row r across the threads in order. Writing
  // one partial per block instead of per thread keeps the partials' traffic
  // far below the data set's.
  constexpr int kRows = reduction_rows<T, Sums::kCount>();
  __shared__ T tile[kRows][kNarrowBlock + 1];
  const std::size_t blocks = gridDim.x;
#pragma unroll
  for (int first = 0; first < Sums::kCount; first += kRows) {
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      if (first + r < Sums::kCount) tile[r][threadIdx.x] = sum[first + r];
    }
    __syncthreads();
    const int row = first + static_cast<int>(threadIdx.x);
    if (threadIdx.x < kRows && row < Sums::kCount) {
      const int k = Sums::compact_index(row, in, h);
      if (k >= 0) {
        T total = 0;
        for (int i = 0; i < kNarrowBlock; ++i) total += tile[threadIdx.x][i];
        s.partials[k * blocks + blockIdx.x] = total;
      }
    }
    __syncthreads();  // before the next rows overwrite the tile
  }
}

template <class T, int kIn, int kHidden>
__global__ void __launch_bounds__(kNarrowBlock) narrow_forward_kernel(NarrowStep<T> s, T* probabilities) {
  const std::size_t n = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (n >= s.samples) return;
  const NarrowNetwork<T, kIn, kHidden> net(s);
  T x[kIn], a[kHidden];
  net.load_features(s.x + n * s.inputs, x);
  probabilities[n] = math::sigmoid(net.forward(x, a));
}

// The register layout for a shape: bounds of 2 or 4 inputs and 4 or 8 hidden
// units. Registers for the article's 2-4-1 are about half of those for
// 4-8-1, which lets twice as many threads stay resident to keep loads in flight.
template <class Kernel>
Kernel pick_layout(int inputs, int hidden, Kernel in2_h4, Kernel in2_h8, Kernel in4_h4, Kernel in4_h8) {
  static_assert(kNarrowMaxInputs == 4 && kNarrowMaxHidden == 8, "the layouts cover every narrow shape");
  if (inputs <= 2) return hidden <= 4 ? in2_h4 : in2_h8;
  return hidden <= 4 ? in4_h4 : in4_h8;
}

}  // namespace

template <class T>
void narrow_step_partials(const NarrowStep<T>& step, cudaStream_t stream) {
  const auto kernel = pick_layout(step.inputs, step.hidden, narrow_step_partials_kernel<T, 2, 4>,
                                  narrow_step_partials_kernel<T, 2, 8>, narrow_step_partials_kernel<T, 4, 4>,
                                  narrow_step_partials_kernel<T, 4, 8>);
  kernel<<<narrow_blocks(step.samples), kNarrowBlock, 0, stream>>>(step, narrow_threads(step.samples));
  BACKPROP_CUDA_CHECK_LAUNCH("narrow_step_partials_kernel");
}

template <class T>
void narrow_forward(const NarrowStep<T>& step, T* probabilities, cudaStream_t stream) {
  const auto kernel = pick_layout(step.inputs, step.hidden, narrow_forward_kernel<T, 2, 4>,
                                  narrow_forward_kernel<T, 2, 8>, narrow_forward_kernel<T, 4, 4>,
                                  narrow_forward_kernel<T, 4, 8>);
  kernel<<<(step.samples + kNarrowBlock - 1) / kNarrowBlock, kNarrowBlock, 0, stream>>>(step, probabilities);
  BACKPROP_CUDA_CHECK_LAUNCH("narrow_forward_kernel");
}

template void narrow_step_partials<float>(const NarrowStep<float>&, cudaStream_t);
template void narrow_step_partials<double>(const NarrowStep<double>&, cudaStream_t);
template void narrow_forward<float>(const NarrowStep<float>&, float*, cudaStream_t);
template void narrow_forward<double>(const NarrowStep<double>&, double*, cudaStream_t);

}  // namespace backprop::cuda
