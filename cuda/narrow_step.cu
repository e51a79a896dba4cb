// The narrow path's kernels (narrow_step.cuh): narrow_step_partials_kernel,
// one training step with a partial sum per block; narrow_epochs_kernel, the
// epochs of a data set one block holds, update included; and
// narrow_forward_kernel, the probabilities. The first two share the
// per-sample work (add_thread_samples) and the block's reduction
// (block_totals).
#include <type_traits>

#include "activation_math.hpp"
#include "cuda_check.cuh"
#include "narrow_step.cuh"

namespace backprop::cuda {
namespace {

// The weights of a narrow network in registers, padded to the layout's
// kHidden with zero-weight units, and its forward pass for one sample. A
// padded unit adds exactly 0 to y2 and its gradients are not written out, so
// the loops need no test of the true width and every array index is a
// constant after unrolling: the arrays stay in registers, and the sample
// loop does not branch on the shape. Both layers' weights are stored times
// -log2(e), rounded once from double (math::kMinusLog2e), so that each
// layer's product comes out as the argument of a base-2 exponential: the
// hidden layer's x W1 + b1 goes to sigmoid_of_base2, and the output's
// a W2 + b2 to sigmoid_and_bce_of_base2, which need no multiply to reduce
// it (the CPU's narrow kernel does this for the hidden layer).
template <class T, int kIn, int kHidden>
struct NarrowNetwork {
  T W1[kIn][kHidden] = {}, b1[kHidden] = {};  // times -log2(e)
  T W2[kHidden] = {}, b2 = 0;                 // times -log2(e)

  __device__ explicit NarrowNetwork(const NarrowStep<T>& s) : b2(to_base2(s.b2[0])) {
#pragma unroll
    for (int j = 0; j < kHidden; ++j) {
      if (j >= s.hidden) continue;
      b1[j] = to_base2(s.b1[j]);
      W2[j] = to_base2(s.W2[j]);
#pragma unroll
      for (int i = 0; i < kIn; ++i) W1[i][j] = to_base2(s.W1[i * s.hidden + j]);
    }
  }

  __device__ static T to_base2(T weight) { return static_cast<T>(weight * math::kMinusLog2e); }

  // a = σ(x W1 + b1); returns y2 = -z2 log2(e), z2 = a W2 + b2 the logit.
  __device__ T forward(const T (&x)[kIn], T (&a)[kHidden]) const {
    T y2 = b2;
#pragma unroll
    for (int j = 0; j < kHidden; ++j) {
      T y = b1[j];
#pragma unroll
      for (int i = 0; i < kIn; ++i) y += x[i] * W1[i][j];
      a[j] = math::sigmoid_of_base2(y);
      y2 += a[j] * W2[j];
    }
    return y2;
  }
};

// A thread's sums in a layout fixed at compile time, so that they stay in
// registers: dW1 (kIn x kHidden), db1, dW2 (kHidden each), db2, the loss.
// dW1 and db1 are summed without W2's factor, which is the same for every
// sample: the block's totals are multiplied by it instead (scale_of).
template <int kIn, int kHidden>
struct PaddedSums {
  static constexpr int kDW1 = 0, kDb1 = kIn * kHidden, kDW2 = kDb1 + kHidden, kDb2 = kDW2 + kHidden,
                       kLoss = kDb2 + 1, kCount = kLoss + 1;

  // Where padded row r goes in the NarrowSums layout of the true width h,
  // or -1 for a padded unit.
  __device__ static int compact_index(int r, int h) {
    if (r < kDb1) {
      const int i = r / kHidden, j = r % kHidden;
      return j < h ? i * h + j : -1;
    }
    if (r < kDW2) return r - kDb1 < h ? kIn * h + (r - kDb1) : -1;
    if (r < kDb2) return r - kDW2 < h ? kIn * h + h + (r - kDW2) : -1;
    return kIn * h + 2 * h + (r - kDb2);  // db2, then the loss
  }

  // The hidden unit whose W2 multiplies row r's total, or -1 for none.
  __device__ static int scale_of(int r) {
    if (r < kDb1) return r % kHidden;
    if (r < kDW2) return r - kDb1;
    return -1;
  }
};

// The block's reduction (block_totals) adds each row of its threads' sums
// in two levels: kSegments threads per row each add every kSegments-th
// column, then one thread adds the row's segments in order. A single thread
// per row would run a chain of up to kNarrowBlock dependent adds (about a
// thousand cycles in float) while the block's other warps wait at the
// barrier.
constexpr int kSegments = 8;
// A tile row is kNarrowBlock + kSegments long: with that stride the 32
// threads of a warp (4 rows x 8 segments) read 32 different banks.
constexpr int kTileStride = kNarrowBlock + kSegments;
// Rows of the reduction tile: what fits in 32 KiB of shared memory, and at
// most one row per kSegments threads.
template <class T, int kCount>
constexpr int reduction_rows() {
  constexpr int fit = (32 * 1024) / static_cast<int>(kTileStride * sizeof(T));
  constexpr int most = fit < kNarrowBlock / kSegments ? fit : kNarrowBlock / kSegments;
  return kCount < most ? kCount : most;
}

// Samples whose loads a thread issues together (see add_thread_samples).
constexpr int kInFlight = 4;

template <class T, int kIn>
__device__ void load_features(const NarrowStep<T>& s, std::size_t n, T (&x)[kIn]) {
#pragma unroll
  for (int i = 0; i < kIn; ++i) x[i] = s.x[n * kIn + i];
}

template <class T, int kIn>
__device__ void load_sample(const NarrowStep<T>& s, std::size_t n, T (&x)[kIn], T& y) {
  load_features(s, n, x);
  y = static_cast<T>(s.y[n]);
}

// A thread's sums over its samples t, t + threads, ... in order
// (neighbouring threads read neighbouring samples). Each sample goes forward
// and back: loss = bce(z2, y); dZ2 = (σ(z2) - y) / N;
// dZ1 = dZ2 W2ᵀ ⊙ a (1 - a), W2's factor left to the block's totals.
// Samples are loaded kInFlight at a time before any of them is computed:
// with one sample's 12 bytes in flight per thread, the resident threads
// could not cover the memory's latency at full bandwidth.
template <class T, int kIn, int kHidden>
__device__ void add_thread_samples(const NarrowStep<T>& s, const NarrowNetwork<T, kIn, kHidden>& net,
                                   std::size_t t, std::size_t threads,
                                   T (&sum)[PaddedSums<kIn, kHidden>::kCount]) {
  using Sums = PaddedSums<kIn, kHidden>;
  auto add_sample = [&](const T (&x)[kIn], T target) {
    T a[kHidden];
    const T y2 = net.forward(x, a);
    T p;
    sum[Sums::kLoss] += math::sigmoid_and_bce_of_base2(y2, target, p);
    const T dz2 = math::bce_sigmoid_gradient(p, target) * s.inv_samples;
    sum[Sums::kDb2] += dz2;
#pragma unroll
    for (int j = 0; j < kHidden; ++j) {
      sum[Sums::kDW2 + j] += a[j] * dz2;
      const T dz1_over_w2 = dz2 * math::sigmoid_derivative(a[j]);
      sum[Sums::kDb1 + j] += dz1_over_w2;
#pragma unroll
      for (int i = 0; i < kIn; ++i) sum[Sums::kDW1 + i * kHidden + j] += x[i] * dz1_over_w2;
    }
  };
  std::size_t n = t;
  for (; n + (kInFlight - 1) * threads < s.samples; n += kInFlight * threads) {
    T x[kInFlight][kIn], y[kInFlight];
#pragma unroll
    for (int k = 0; k < kInFlight; ++k) load_sample(s, n + k * threads, x[k], y[k]);
#pragma unroll
    for (int k = 0; k < kInFlight; ++k) add_sample(x[k], y[k]);
  }
  for (; n < s.samples; n += threads) {
    T x[kIn], y;
    load_sample(s, n, x, y);
    add_sample(x, y);
  }
}

// The block's totals of its threads' sums, a tile of rows at a time: every
// thread writes its column; thread (r, g) adds columns g, g + kSegments, ...
// of row r, up to the first `live` threads (those that took samples; the
// others hold zeros); thread r adds its row's kSegments parts in order and
// calls emit(k, total) with k in the NarrowSums layout, dW1's and db1's
// totals times W2 (read from s, so emit must not change it). The order is
// fixed by `live` alone. All threads of the block must call this.
template <class T, int kIn, int kHidden, class Emit>
__device__ void block_totals(const NarrowStep<T>& s, const T (&sum)[PaddedSums<kIn, kHidden>::kCount], int live,
                             Emit emit) {
  using Sums = PaddedSums<kIn, kHidden>;
  constexpr int kRows = reduction_rows<T, Sums::kCount>();
  __shared__ T tile[kRows][kTileStride];
  __shared__ T parts[kRows][kSegments];
  const int part_row = static_cast<int>(threadIdx.x) / kSegments, segment = static_cast<int>(threadIdx.x) % kSegments;
#pragma unroll
  for (int first = 0; first < Sums::kCount; first += kRows) {
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      if (first + r < Sums::kCount) tile[r][threadIdx.x] = sum[first + r];
    }
    __syncthreads();
    if (part_row < kRows && first + part_row < Sums::kCount) {
      T part = 0;
      for (int i = segment; i < live; i += kSegments) part += tile[part_row][i];
      parts[part_row][segment] = part;
    }
    __syncthreads();
    const int row = first + static_cast<int>(threadIdx.x);
    if (threadIdx.x < kRows && row < Sums::kCount) {
      const int k = Sums::compact_index(row, s.hidden);
      if (k >= 0) {
        T total = 0;
#pragma unroll
        for (int g = 0; g < kSegments; ++g) total += parts[threadIdx.x][g];
        const int unit = Sums::scale_of(row);
        emit(k, unit < 0 ? total : total * s.W2[unit]);
      }
    }
    __syncthreads();  // before the next rows overwrite the tile and parts
  }
}

// Blocks of the step that an SM should hold at once. For the float layouts
// of 4 hidden units, 4: at most 64 registers a thread, which they fit
// without spilling (cuobjdump -res-usage, sm_90) for 0.5% to 2.4% more
// instructions in the loop. The step's kNarrowThreads / kNarrowBlock = 1024
// blocks then run in 1.94 waves on an H100's or H200's 132 SMs; at 3 a SM
// (their 72 to 80 registers) they took 2.59 waves, the last one 59% full.
// 0 leaves ptxas its own choice, as if no minimum were given (checked with
// -v: the same register counts), which suits the others.
template <class T, int kIn, int kHidden>
constexpr int narrow_step_blocks_per_sm() {
  return sizeof(T) == 4 && kHidden == 4 ? 4 : 0;
}

// __launch_bounds__: the f64 layouts of 8 hidden units need up to 252
// registers; the bound keeps ptxas within what a block of kNarrowBlock
// threads may use, and asks for narrow_step_blocks_per_sm.
template <class T, int kIn, int kHidden>
__global__ void __launch_bounds__(kNarrowBlock, (narrow_step_blocks_per_sm<T, kIn, kHidden>()))
    narrow_step_partials_kernel(NarrowStep<T> s, std::size_t threads) {
  const std::size_t t = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const NarrowNetwork<T, kIn, kHidden> net(s);
  T sum[PaddedSums<kIn, kHidden>::kCount] = {};
  // Threads past the last one add nothing but take part in the block's totals.
  if (t < threads) add_thread_samples(s, net, t, threads, sum);
  // One partial per block instead of per thread keeps the partials' traffic
  // far below the data set's.
  const std::size_t blocks = gridDim.x, first = blockIdx.x * static_cast<std::size_t>(kNarrowBlock);
  const int live = static_cast<int>(min(threads - first, static_cast<std::size_t>(kNarrowBlock)));
  block_totals<T, kIn, kHidden>(s, sum, live, [&](int k, T total) { s.partials[k * blocks + blockIdx.x] = total; });
}

// Sum k of the NarrowSums layout, in double: θ_k -= rate · sum for a
// gradient (sgd_update's arithmetic), or the epoch's loss into its array.
template <class T>
__device__ void apply_sum(const NarrowUpdate<T>& u, const NarrowSums& at, std::size_t k, double sum,
                          unsigned epoch) {
  if (k < at.db1) {
    u.W1[k] -= u.rate * static_cast<T>(sum);
  } else if (k < at.dW2) {
    u.b1[k - at.db1] -= u.rate * static_cast<T>(sum);
  } else if (k < at.db2) {
    u.W2[k - at.dW2] -= u.rate * static_cast<T>(sum);
  } else if (k == at.db2) {
    u.b2[0] -= u.rate * static_cast<T>(sum);
  } else if (k == at.loss) {
    u.loss_history[epoch] = sum * u.inv_samples;
  }
}

// Lanes per sum in finish_narrow_step_kernel: lane l adds blocks l,
// l + kFinishLanes, ..., then the lanes meet in a fixed tree. With 1024
// threads, 32 sums a pass (the article's 18 in one) and at most 32 terms a
// lane (1024 blocks).
constexpr int kFinishThreads = 1024;
constexpr int kFinishLanes = 32;

template <class T>
__global__ void __launch_bounds__(kFinishThreads)
    finish_narrow_step_kernel(const T* partials, std::size_t blocks, NarrowSums at, double* sums,
                              NarrowUpdate<T> u, bool update) {
  __shared__ double lanes[kFinishThreads];
  const int lane = static_cast<int>(threadIdx.x) % kFinishLanes;
  const unsigned epoch = update ? *u.epoch : 0;
  for (std::size_t first = 0; first < at.count; first += kFinishThreads / kFinishLanes) {
    const std::size_t k = first + threadIdx.x / kFinishLanes;
    double total = 0;
    if (k < at.count) {
      for (std::size_t b = lane; b < blocks; b += kFinishLanes) total += partials[k * blocks + b];
    }
    lanes[threadIdx.x] = total;
    __syncthreads();
    for (int half = kFinishLanes / 2; half > 0; half /= 2) {
      if (lane < half) lanes[threadIdx.x] += lanes[threadIdx.x + half];
      __syncthreads();
    }
    if (lane == 0 && k < at.count) {
      if (update) {
        apply_sum(u, at, k, lanes[threadIdx.x], epoch);
      } else {
        sums[k] = lanes[threadIdx.x];
      }
    }
    __syncthreads();  // before the next pass overwrites the lanes
  }
  if (update && threadIdx.x == 0) *u.epoch = epoch + 1;
}

// Epochs of a data set that one block holds, the update included. Thread t
// takes sample t; the block's totals are the step's sums (there are no
// other blocks, and finish_narrow_step's lanes would add zeros to them),
// and apply_sum updates as finish_narrow_step does, so the result is the
// same bits as the two kernels of an epoch give.
template <class T, int kIn, int kHidden>
__global__ void __launch_bounds__(kNarrowBlock)
    narrow_epochs_kernel(NarrowStep<T> s, NarrowUpdate<T> u, std::size_t count) {
  const NarrowSums at = narrow_sums(kIn, s.hidden);
  __shared__ T totals[PaddedSums<kIn, kHidden>::kCount];
  const unsigned first_epoch = *u.epoch;
  for (std::size_t epoch = 0; epoch < count; ++epoch) {
    const NarrowNetwork<T, kIn, kHidden> net(s);  // this epoch's weights
    T sum[PaddedSums<kIn, kHidden>::kCount] = {};
    if (threadIdx.x < s.samples) add_thread_samples(s, net, threadIdx.x, s.samples, sum);
    block_totals<T, kIn, kHidden>(s, sum, static_cast<int>(s.samples), [&](int k, T total) { totals[k] = total; });
    if (threadIdx.x < at.count) {
      apply_sum(u, at, threadIdx.x, static_cast<double>(totals[threadIdx.x]),
                first_epoch + static_cast<unsigned>(epoch));
    }
    __syncthreads();  // the updated weights, before the next epoch reads them
  }
  if (threadIdx.x == 0) *u.epoch = first_epoch + static_cast<unsigned>(count);
}

template <class T, int kIn, int kHidden>
__global__ void __launch_bounds__(kNarrowBlock) narrow_forward_kernel(NarrowStep<T> s, T* probabilities) {
  const std::size_t n = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (n >= s.samples) return;
  const NarrowNetwork<T, kIn, kHidden> net(s);
  T x[kIn], a[kHidden];
  load_features(s, n, x);
  probabilities[n] = math::sigmoid_of_base2(net.forward(x, a));
}

// The layout for a shape: exactly its inputs, hidden units padded to 4 or
// 8. pick(inputs, hidden) gets both as std::integral_constant. The
// article's 2-4-1 runs unpadded, and a 4-unit layout needs about half the
// registers of an 8-unit one, which lets more threads stay resident to keep
// loads in flight.
template <class Pick>
auto pick_layout(int inputs, int hidden, Pick pick) {
  static_assert(kNarrowMaxInputs == 4 && kNarrowMaxHidden == 8, "the layouts cover every narrow shape");
  auto padded_hidden = [&](auto in) {
    return hidden <= 4 ? pick(in, std::integral_constant<int, 4>()) : pick(in, std::integral_constant<int, 8>());
  };
  switch (inputs) {
    case 1: return padded_hidden(std::integral_constant<int, 1>());
    case 2: return padded_hidden(std::integral_constant<int, 2>());
    case 3: return padded_hidden(std::integral_constant<int, 3>());
    default: return padded_hidden(std::integral_constant<int, 4>());
  }
}

}  // namespace

template <class T>
void narrow_step_partials(const NarrowStep<T>& step, cudaStream_t stream) {
  const auto kernel = pick_layout(step.inputs, step.hidden, [](auto in, auto hidden) {
    return &narrow_step_partials_kernel<T, decltype(in)::value, decltype(hidden)::value>;
  });
  kernel<<<narrow_blocks(step.samples), kNarrowBlock, 0, stream>>>(step, narrow_threads(step.samples));
  BACKPROP_CUDA_CHECK_LAUNCH("narrow_step_partials_kernel");
}

template <class T>
void finish_narrow_step(const T* partials, std::size_t blocks, int inputs, int hidden, double* sums,
                        const NarrowUpdate<T>* update, cudaStream_t stream) {
  finish_narrow_step_kernel<<<1, kFinishThreads, 0, stream>>>(partials, blocks, narrow_sums(inputs, hidden), sums,
                                                              update ? *update : NarrowUpdate<T>{}, update != nullptr);
  BACKPROP_CUDA_CHECK_LAUNCH("finish_narrow_step_kernel");
}

template <class T>
void narrow_epochs_in_one_block(const NarrowStep<T>& step, const NarrowUpdate<T>& update, std::size_t count,
                                cudaStream_t stream) {
  const auto kernel = pick_layout(step.inputs, step.hidden, [](auto in, auto hidden) {
    return &narrow_epochs_kernel<T, decltype(in)::value, decltype(hidden)::value>;
  });
  kernel<<<1, kNarrowBlock, 0, stream>>>(step, update, count);
  BACKPROP_CUDA_CHECK_LAUNCH("narrow_epochs_kernel");
}

template <class T>
void narrow_forward(const NarrowStep<T>& step, T* probabilities, cudaStream_t stream) {
  const auto kernel = pick_layout(step.inputs, step.hidden, [](auto in, auto hidden) {
    return &narrow_forward_kernel<T, decltype(in)::value, decltype(hidden)::value>;
  });
  kernel<<<(step.samples + kNarrowBlock - 1) / kNarrowBlock, kNarrowBlock, 0, stream>>>(step, probabilities);
  BACKPROP_CUDA_CHECK_LAUNCH("narrow_forward_kernel");
}

template void narrow_step_partials<float>(const NarrowStep<float>&, cudaStream_t);
template void narrow_step_partials<double>(const NarrowStep<double>&, cudaStream_t);
template void finish_narrow_step<float>(const float*, std::size_t, int, int, double*, const NarrowUpdate<float>*,
                                       cudaStream_t);
template void finish_narrow_step<double>(const double*, std::size_t, int, int, double*, const NarrowUpdate<double>*,
                                        cudaStream_t);
template void narrow_epochs_in_one_block<float>(const NarrowStep<float>&, const NarrowUpdate<float>&, std::size_t,
                                               cudaStream_t);
template void narrow_epochs_in_one_block<double>(const NarrowStep<double>&, const NarrowUpdate<double>&, std::size_t,
                                                cudaStream_t);
template void narrow_forward<float>(const NarrowStep<float>&, float*, cudaStream_t);
template void narrow_forward<double>(const NarrowStep<double>&, double*, cudaStream_t);

}  // namespace backprop::cuda
