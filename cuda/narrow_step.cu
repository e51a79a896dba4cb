// The narrow path's kernels (narrow_step.cuh): narrow_step_partials_kernel,
// one training step with a partial sum per block; narrow_epochs_kernel, the
// epochs of a data set one block holds, update included; and
// narrow_forward_kernel, the probabilities. The first two share the
// per-sample work (add_thread_samples) and the block's reduction
// (block_totals).
//
// A layout <T, kIn, kHidden> pads the hidden layer to kHidden units. Up to
// kUnitsPerLane a thread computes all of them; a wider layer gives each
// sample kLanes = kHidden / kUnitsPerLane neighbouring lanes (a sample
// group), each with its own slice of the units, weights and sums, so that a
// thread's registers hold what they hold at 8 units, whatever the width.
// The lanes of a group add their parts of the output's logit (GroupSum:
// butterfly shuffles within a warp, then, for the 2 or 4 warps of a group
// of 512 or 1024 units, each warp's sum through shared memory) and then
// all compute the output, its loss and dZ2, which their slices' gradients
// need.
#include <string>
#include <type_traits>

#include "activation_math.hpp"
#include "backprop/error.hpp"
#include "cuda_check.cuh"
#include "narrow_step.cuh"

namespace backprop::cuda {
namespace {

// How a layout splits its kHidden units over the lanes of a sample group.
template <int kHidden>
struct LaneSplit {
  static constexpr int kLanes = static_cast<int>(lanes_of_layout(kHidden));  // a sample's, as narrow_lanes
  static constexpr int kUnits = kHidden / kLanes;                             // a lane's
  static constexpr int kWarpLanes = kLanes < 32 ? kLanes : 32;                // a sample's in one warp
  static constexpr int kWarps = kLanes / kWarpLanes;                          // a sample's warps
  static_assert(kLanes * kUnits == kHidden && (kLanes & (kLanes - 1)) == 0 && kNarrowBlock % kLanes == 0,
                "a sample's lanes are a power of two, within one warp or whole warps of a block");
};

// A sample group's sum of its lanes' values, the same bits in each lane.
// Within a warp, butterfly shuffles: at every level a lane adds its
// partner's value to its own while the partner adds the same two values
// the other way round, which IEEE addition does not tell apart. A group of
// kWarps > 1 warps then adds its warps' sums, in warp order, through shared
// memory: every thread of the block must call it as often as the others,
// since it waits at a barrier. Two buffers taken in turn make one barrier a
// call enough: a warp writes a buffer again only after the next call's
// barrier, which every thread reaches after reading it. A fixed order, so
// runs repeat bit for bit.
template <class T, int kHidden>
class GroupSum {
 public:
  __device__ T operator()(T v) {
#pragma unroll
    for (int m = 1; m < kWarpLanes; m *= 2) v += __shfl_xor_sync(mask_, v, m);
    if constexpr (kWarps > 1) {
      __shared__ T warp_sums[2][kNarrowBlock / 32];
      const int warp = static_cast<int>(threadIdx.x) / 32, first = warp / kWarps * kWarps;
      if (threadIdx.x % 32 == 0) warp_sums[turn_][warp] = v;
      __syncthreads();
      v = warp_sums[turn_][first];
#pragma unroll
      for (int w = 1; w < kWarps; ++w) v += warp_sums[turn_][first + w];
      turn_ ^= 1;
    }
    return v;
  }

 private:
  static constexpr int kWarpLanes = LaneSplit<kHidden>::kWarpLanes, kWarps = LaneSplit<kHidden>::kWarps;
  // The lanes of this thread's group within its warp: kWarpLanes
  // neighbours, aligned.
  static __device__ unsigned warp_mask() {
    if constexpr (kWarpLanes == 32) {
      return 0xffffffffu;
    } else {
      const unsigned first = threadIdx.x % 32 / kWarpLanes * kWarpLanes;
      return ((1u << kWarpLanes) - 1) << first;
    }
  }
  unsigned mask_ = warp_mask();
  int turn_ = 0;
};

// One lane's slice of a narrow network in registers: the units
// slice * kUnits ... + kUnits - 1, zero weights past the true width, and
// its share of the forward pass for one sample. A padded unit adds exactly
// 0 to y2 and its gradients are not written out, so the loops need no test
// of the true width and every array index is a constant after unrolling:
// the arrays stay in registers, and the sample loop does not branch on the
// shape. Both layers' weights are stored times
// -log2(e), rounded once from double (math::kMinusLog2e), so that each
// layer's product comes out as the argument of a base-2 exponential: the
// hidden layer's x W1 + b1 goes to sigmoid_of_base2, and the output's
// a W2 + b2 to sigmoid_and_bce_of_base2, which need no multiply to reduce
// it (the CPU's narrow kernel does this for the hidden layer). Both take
// 2^y as kExp2 says (narrow_exp2).
template <class T, int kIn, int kHidden, math::Exp2 kExp2>
struct NarrowNetwork {
  static constexpr int kUnits = LaneSplit<kHidden>::kUnits;
  T W1[kIn][kUnits] = {}, b1[kUnits] = {};  // times -log2(e)
  T W2[kUnits] = {}, b2 = 0;                // times -log2(e); b2 on a group's first lane only

  __device__ NarrowNetwork(const NarrowStep<T>& s, int slice) : b2(slice == 0 ? to_base2(s.b2[0]) : T(0)) {
#pragma unroll
    for (int u = 0; u < kUnits; ++u) {
      const int j = slice * kUnits + u;
      if (j >= s.hidden) continue;
      b1[u] = to_base2(s.b1[j]);
      W2[u] = to_base2(s.W2[j]);
#pragma unroll
      for (int i = 0; i < kIn; ++i) W1[i][u] = to_base2(s.W1[i * s.hidden + j]);
    }
  }

  __device__ static T to_base2(T weight) { return static_cast<T>(weight * math::kMinusLog2e); }

  // a = σ(x W1 + b1) for this slice's units; returns their part of
  // y2 = -z2 log2(e), z2 = a W2 + b2 the logit (sum_over_group adds the parts).
  __device__ T forward(const T (&x)[kIn], T (&a)[kUnits]) const {
    T y2 = b2;
#pragma unroll
    for (int j = 0; j < kUnits; ++j) {
      T y = b1[j];
#pragma unroll
      for (int i = 0; i < kIn; ++i) y = math::multiply_add(x[i], W1[i][j], y);
      a[j] = math::sigmoid_of_base2<kExp2>(y);
      y2 = math::multiply_add(a[j], W2[j], y2);
    }
    return y2;
  }
};

// A thread's sums in a layout fixed at compile time, so that they stay in
// registers: dW1 (kIn x kUnits), db1, dW2 (kUnits each) for its slice's
// units, db2, the loss (the lanes of a group all add the last two; the
// first lane's count). dW1 and db1 are summed without W2's factor, which
// is the same for every sample: the block's totals are multiplied by it
// instead (scale_of).
template <int kIn, int kUnits>
struct PaddedSums {
  static constexpr int kDW1 = 0, kDb1 = kIn * kUnits, kDW2 = kDb1 + kUnits, kDb2 = kDW2 + kUnits,
                       kLoss = kDb2 + 1, kCount = kLoss + 1;

  // The hidden unit of row r of slice l's lanes (r < kDb2).
  __device__ static int unit_of(int r, int l) {
    return l * kUnits + (r < kDb1 ? r % kUnits : r < kDW2 ? r - kDb1 : r - kDW2);
  }

  // Where row r of the lanes of slice l goes in the narrow_layout() of
  // the true width h, or -1 for a padded unit or a repeated db2 and loss.
  __device__ static int compact_index(int r, int l, int h) {
    if (r >= kDb2) return l == 0 ? kIn * h + 2 * h + (r - kDb2) : -1;  // db2, then the loss
    const int j = unit_of(r, l);
    if (j >= h) return -1;
    if (r < kDb1) return r / kUnits * h + j;  // dW1, row r / kUnits
    return (r < kDW2 ? kIn * h : kIn * h + h) + j;  // db1, dW2
  }

  // The hidden unit whose W2 multiplies the total of row r of slice l, or
  // -1 for none (dW1 and db1 are summed without it).
  __device__ static int scale_of(int r, int l) { return r < kDW2 ? unit_of(r, l) : -1; }
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
// Rows of the reduction tile: what fits in 32 KiB of shared memory, their
// parts (kLanes slices of kSegments each) in 8 KiB, and at most one row
// per kSegments threads.
template <class T, int kCount, int kLanes>
constexpr int reduction_rows() {
  constexpr int fit = (32 * 1024) / static_cast<int>(kTileStride * sizeof(T));
  constexpr int parts_fit = (8 * 1024) / static_cast<int>(kLanes * kSegments * sizeof(T));
  constexpr int most = fit < parts_fit ? fit : parts_fit;
  constexpr int rows = most < kNarrowBlock / kSegments ? most : kNarrowBlock / kSegments;
  return kCount < rows ? kCount : rows;
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

// A thread's sums over its group's samples g, g + groups, ... in order
// (neighbouring groups read neighbouring samples). Each sample goes forward
// and back: loss = bce(z2, y); dZ2 = (σ(z2) - y) / N;
// dZ1 = dZ2 W2ᵀ ⊙ a (1 - a), W2's factor left to the block's totals; each
// lane of the group computes its slice's units, and all of them the
// output. Samples are loaded kInFlight at a time before any of them is
// computed: with one sample's 12 bytes in flight per thread, the resident
// threads could not cover the memory's latency at full bandwidth.
//
// A group of several warps (kWarps > 1) meets the block's other threads at
// a barrier for every sample (GroupSum), so every thread of the block,
// including those past the step's threads (g >= groups), loops as often as
// the block's first group; a sample past the data set goes through the
// forward pass with zeros and adds nothing. Its samples come one at a time
// (some 220 instructions a lane at 2-1024-1, sm_90), so the next sample's
// load is issued before the current one is computed, and other warps cover
// its latency.
template <class T, int kIn, int kHidden, math::Exp2 kExp2>
__device__ void add_thread_samples(const NarrowStep<T>& s, const NarrowNetwork<T, kIn, kHidden, kExp2>& net,
                                   std::size_t g, std::size_t groups,
                                   T (&sum)[PaddedSums<kIn, LaneSplit<kHidden>::kUnits>::kCount]) {
  constexpr int kUnits = LaneSplit<kHidden>::kUnits, kLanes = LaneSplit<kHidden>::kLanes;
  using Sums = PaddedSums<kIn, kUnits>;
  GroupSum<T, kHidden> sum_over_group;
  auto add_sample = [&](const T (&x)[kIn], T target, bool counts) {
    T a[kUnits];
    const T y2 = sum_over_group(net.forward(x, a));
    if (!counts) return;
    T p;
    sum[Sums::kLoss] += math::sigmoid_and_bce_of_base2<kExp2>(y2, target, p);
    const T dz2 = math::bce_sigmoid_gradient(p, target) * s.inv_samples;
    sum[Sums::kDb2] += dz2;
#pragma unroll
    for (int j = 0; j < kUnits; ++j) {
      T& dW2 = sum[Sums::kDW2 + j];
      dW2 = math::multiply_add(a[j], dz2, dW2);
      const T dz1_over_w2 = dz2 * math::sigmoid_derivative(a[j]);
      sum[Sums::kDb1 + j] += dz1_over_w2;
#pragma unroll
      for (int i = 0; i < kIn; ++i) {
        T& dW1 = sum[Sums::kDW1 + i * kUnits + j];
        dW1 = math::multiply_add(x[i], dz1_over_w2, dW1);
      }
    }
  };
  if constexpr (LaneSplit<kHidden>::kWarps > 1) {
    const std::size_t first_group = g - threadIdx.x / kLanes;  // the block's
    const bool live = g < groups;
    auto counts = [&](std::size_t n) { return live && n < s.samples; };
    std::size_t n = g;
    T x[kIn] = {}, y = 0;
    if (counts(n)) load_sample(s, n, x, y);
    for (std::size_t n_first = first_group; n_first < s.samples; n_first += groups, n += groups) {
      T next_x[kIn] = {}, next_y = 0;
      if (counts(n + groups)) load_sample(s, n + groups, next_x, next_y);
      add_sample(x, y, counts(n));
#pragma unroll
      for (int i = 0; i < kIn; ++i) x[i] = next_x[i];
      y = next_y;
    }
  } else {
    std::size_t n = g;
    for (; n + (kInFlight - 1) * groups < s.samples; n += kInFlight * groups) {
      T x[kInFlight][kIn], y[kInFlight];
#pragma unroll
      for (int k = 0; k < kInFlight; ++k) load_sample(s, n + k * groups, x[k], y[k]);
#pragma unroll
      for (int k = 0; k < kInFlight; ++k) add_sample(x[k], y[k], true);
    }
    for (; n < s.samples; n += groups) {
      T x[kIn], y;
      load_sample(s, n, x, y);
      add_sample(x, y, true);
    }
  }
}

// The block's totals of its threads' sums, a tile of rows at a time: every
// thread writes its column; each (row r, slice l) pair is added in
// kSegments parts, part g taking the threads l + kLanes (g + kSegments m)
// up to the first `live` (those that took samples; the others hold zeros),
// then one thread adds the pair's parts in order and calls emit(k, total)
// with k in the narrow_layout(), dW1's and db1's totals times W2 (read
// from s, so emit must not change it). The order is fixed by `live` alone.
// All threads of the block must call this.
template <class T, int kIn, int kHidden, class Emit>
__device__ void block_totals(const NarrowStep<T>& s, const T (&sum)[PaddedSums<kIn, LaneSplit<kHidden>::kUnits>::kCount],
                             int live, Emit emit) {
  constexpr int kLanes = LaneSplit<kHidden>::kLanes;
  using Sums = PaddedSums<kIn, LaneSplit<kHidden>::kUnits>;
  constexpr int kRows = reduction_rows<T, Sums::kCount, kLanes>();
  constexpr int kPairs = kRows * kLanes;
  __shared__ T tile[kRows][kTileStride];
  __shared__ T parts[kPairs][kSegments];
#pragma unroll
  for (int first = 0; first < Sums::kCount; first += kRows) {
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      if (first + r < Sums::kCount) tile[r][threadIdx.x] = sum[first + r];
    }
    __syncthreads();
    for (int item = static_cast<int>(threadIdx.x); item < kPairs * kSegments; item += kNarrowBlock) {
      const int pair = item / kSegments, segment = item % kSegments, r = pair / kLanes, l = pair % kLanes;
      if (first + r < Sums::kCount) {
        T part = 0;
        for (int t = l + kLanes * segment; t < live; t += kLanes * kSegments) part += tile[r][t];
        parts[pair][segment] = part;
      }
    }
    __syncthreads();
    for (int pair = static_cast<int>(threadIdx.x); pair < kPairs; pair += kNarrowBlock) {
      const int row = first + pair / kLanes, l = pair % kLanes;
      const int k = row < Sums::kCount ? Sums::compact_index(row, l, s.hidden) : -1;
      if (k >= 0) {
        T total = 0;
#pragma unroll
        for (int g = 0; g < kSegments; ++g) total += parts[pair][g];
        const int unit = Sums::scale_of(row, l);
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

// __launch_bounds__: the f64 layouts of 8 units a lane need up to 255
// registers (with 4 inputs and several lanes, 184 bytes more on the
// stack); the bound keeps ptxas within what a block of kNarrowBlock
// threads may use, and asks for narrow_step_blocks_per_sm.
template <class T, int kIn, int kHidden, math::Exp2 kExp2>
__global__ void __launch_bounds__(kNarrowBlock, (narrow_step_blocks_per_sm<T, kIn, kHidden>()))
    narrow_step_partials_kernel(NarrowStep<T> s, std::size_t threads) {
  constexpr int kLanes = LaneSplit<kHidden>::kLanes;
  const std::size_t t = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const NarrowNetwork<T, kIn, kHidden, kExp2> net(s, static_cast<int>(threadIdx.x) % kLanes);
  T sum[PaddedSums<kIn, LaneSplit<kHidden>::kUnits>::kCount] = {};
  // Threads past the last one (whole sample groups) add nothing but take
  // part in the block's totals, and in a wide group's barriers.
  if (LaneSplit<kHidden>::kWarps > 1 || t < threads) add_thread_samples(s, net, t / kLanes, threads / kLanes, sum);
  // One partial per block instead of per thread keeps the partials' traffic
  // far below the data set's.
  const std::size_t blocks = gridDim.x, first = blockIdx.x * static_cast<std::size_t>(kNarrowBlock);
  const int live = static_cast<int>(min(threads - first, static_cast<std::size_t>(kNarrowBlock)));
  block_totals<T, kIn, kHidden>(s, sum, live, [&](int k, T total) { s.partials[k * blocks + blockIdx.x] = total; });
}

// Sum k of narrow_layout(), in double: the update of parameter k from its
// mean gradient, or the epoch's loss into its array.
template <class T>
__device__ void apply_sum(const NarrowUpdate<T>& u, const StepScalars& step, const ParameterLayout& at,
                          std::size_t k, double sum, unsigned epoch) {
  if (k < at.count()) {
    update_parameter(u.rule, step, u.params[k], static_cast<T>(sum), u.state, k);
  } else if (k == at.loss()) {
    u.loss_history[epoch] = sum * u.inv_samples;
  }
}

// Lanes per sum in finish_narrow_step_kernel: lane l adds blocks l,
// l + kFinishLanes, ..., then the lanes meet in a fixed tree. With 1024
// threads, 32 sums a block (the article's 18 in one) and at most 32 terms
// a lane (1024 blocks).
constexpr int kFinishThreads = 1024;
constexpr int kFinishLanes = 32;
constexpr int kFinishSums = kFinishThreads / kFinishLanes;

// Block b finishes the sums 32 b ... 32 b + 31. The thread that applies
// the loss reads the epoch counter and advances it; no other touches it.
template <class T>
__global__ void __launch_bounds__(kFinishThreads)
    finish_narrow_step_kernel(const T* partials, std::size_t blocks, ParameterLayout at, double* sums,
                              NarrowUpdate<T> u, bool update) {
  __shared__ double lanes[kFinishThreads];
  const int lane = static_cast<int>(threadIdx.x) % kFinishLanes;
  const std::size_t k = blockIdx.x * static_cast<std::size_t>(kFinishSums) + threadIdx.x / kFinishLanes;
  double total = 0;
  if (k < at.sums()) {
    for (std::size_t b = lane; b < blocks; b += kFinishLanes) total += partials[k * blocks + b];
  }
  lanes[threadIdx.x] = total;
  __syncthreads();
  for (int half = kFinishLanes / 2; half > 0; half /= 2) {
    if (lane < half) lanes[threadIdx.x] += lanes[threadIdx.x + half];
    __syncthreads();
  }
  if (lane == 0 && k < at.sums()) {
    if (!update) {
      sums[k] = lanes[threadIdx.x];
    } else if (k == at.loss()) {
      const unsigned epoch = *u.epoch;
      apply_sum(u, StepScalars{}, at, k, lanes[threadIdx.x], epoch);
      *u.epoch = epoch + 1;
    } else {
      const StepScalars step = u.rule.optimizer.counts_steps() ? *u.step : StepScalars{};
      apply_sum(u, step, at, k, lanes[threadIdx.x], 0);
    }
  }
}

// Epochs of a data set that one block holds, the update included. Sample
// group g takes sample g, as in the step; the block's totals are the step's sums (there are no
// other blocks, and finish_narrow_step's lanes would add zeros to them),
// and apply_sum updates as finish_narrow_step does, so the result is the
// same bits as the two kernels of an epoch give.
template <class T, int kIn, int kHidden, math::Exp2 kExp2>
__global__ void __launch_bounds__(kNarrowBlock)
    narrow_epochs_kernel(NarrowStep<T> s, NarrowUpdate<T> u, std::size_t count) {
  constexpr int kLanes = LaneSplit<kHidden>::kLanes;
  const ParameterLayout at = narrow_layout(kIn, s.hidden);
  __shared__ T totals[kIn * kHidden + 2 * kHidden + 2];  // narrow_layout()'s sums, at most
  const unsigned first_epoch = *u.epoch;
  // Every thread computes each step's scalars, by the arithmetic of
  // advance_step, so no barrier waits for one that does.
  const bool counts = u.rule.optimizer.counts_steps();
  const std::uint64_t steps_before = counts ? u.step->step : 0;
  const int live = static_cast<int>(s.samples) * kLanes;  // fits_one_block: a group per sample
  for (std::size_t epoch = 0; epoch < count; ++epoch) {
    const NarrowNetwork<T, kIn, kHidden, kExp2> net(s, static_cast<int>(threadIdx.x) % kLanes);  // this epoch's weights
    T sum[PaddedSums<kIn, LaneSplit<kHidden>::kUnits>::kCount] = {};
    if (static_cast<int>(threadIdx.x) < live) add_thread_samples(s, net, threadIdx.x / kLanes, s.samples, sum);
    block_totals<T, kIn, kHidden>(s, sum, live, [&](int k, T total) { totals[k] = total; });
    const StepScalars step = counts ? step_scalars(u.rule, steps_before + epoch + 1) : StepScalars{};
    for (std::size_t k = threadIdx.x; k < at.sums(); k += kNarrowBlock) {
      apply_sum(u, step, at, k, static_cast<double>(totals[k]), first_epoch + static_cast<unsigned>(epoch));
    }
    __syncthreads();  // the updated weights, before the next epoch reads them
  }
  if (threadIdx.x == 0) {
    *u.epoch = first_epoch + static_cast<unsigned>(count);
    if (counts) *u.step = step_scalars(u.rule, steps_before + count);
  }
}

// Sample n on the kLanes lanes of group n. A group past the data set
// returns at once, unless it must meet its block's other groups at
// GroupSum's barrier.
template <class T, int kIn, int kHidden, math::Exp2 kExp2>
__global__ void __launch_bounds__(kNarrowBlock) narrow_forward_kernel(NarrowStep<T> s, T* probabilities) {
  constexpr int kLanes = LaneSplit<kHidden>::kLanes;
  const std::size_t n = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / kLanes;
  const bool in_data = n < s.samples;
  if (LaneSplit<kHidden>::kWarps == 1 && !in_data) return;  // whole groups
  const int slice = static_cast<int>(threadIdx.x) % kLanes;
  const NarrowNetwork<T, kIn, kHidden, kExp2> net(s, slice);
  T x[kIn] = {}, a[LaneSplit<kHidden>::kUnits];
  if (in_data) load_features(s, n, x);
  const T y2 = GroupSum<T, kHidden>()(net.forward(x, a));
  if (slice == 0 && in_data) probabilities[n] = math::sigmoid_of_base2<kExp2>(y2);
}

// The kernel for a step: the layout of its shape, exactly its inputs and
// the hidden units padded to a power of two from 4 (narrow_padded_hidden),
// and its exp2 (float only: double has one). pick(inputs, hidden, exp2)
// gets the three as std::integral_constant. The article's 2-4-1 runs
// unpadded, and a 4-unit layout needs about half the registers of an
// 8-unit one, which lets more threads stay resident to keep loads in
// flight.
template <class T, class Pick>
auto pick_kernel(const NarrowStep<T>& s, Pick pick) {
  static_assert(kNarrowMaxInputs == 4 && kNarrowMaxHidden == 1024, "the layouts cover every narrow shape");
  auto exp2 = [&](auto in, auto hidden) {
    if constexpr (std::is_same_v<T, float>) {
      if (s.exp2 == math::Exp2::polynomial) {
        return pick(in, hidden, std::integral_constant<math::Exp2, math::Exp2::polynomial>());
      }
    }
    return pick(in, hidden, std::integral_constant<math::Exp2, math::Exp2::hardware>());
  };
  auto padded_hidden = [&](auto in) {
    switch (narrow_padded_hidden(static_cast<std::size_t>(s.hidden))) {
      case 4: return exp2(in, std::integral_constant<int, 4>());
      case 8: return exp2(in, std::integral_constant<int, 8>());
      case 16: return exp2(in, std::integral_constant<int, 16>());
      case 32: return exp2(in, std::integral_constant<int, 32>());
      case 64: return exp2(in, std::integral_constant<int, 64>());
      case 128: return exp2(in, std::integral_constant<int, 128>());
      case 256: return exp2(in, std::integral_constant<int, 256>());
      case 512: return exp2(in, std::integral_constant<int, 512>());
      default: return exp2(in, std::integral_constant<int, 1024>());
    }
  };
  switch (s.inputs) {
    case 1: return padded_hidden(std::integral_constant<int, 1>());
    case 2: return padded_hidden(std::integral_constant<int, 2>());
    case 3: return padded_hidden(std::integral_constant<int, 3>());
    default: return padded_hidden(std::integral_constant<int, 4>());
  }
}

}  // namespace

template <class T>
void narrow_step_partials(const NarrowStep<T>& step, cudaStream_t stream) {
  const auto kernel = pick_kernel(step, [](auto in, auto hidden, auto exp2) {
    return &narrow_step_partials_kernel<T, decltype(in)::value, decltype(hidden)::value, decltype(exp2)::value>;
  });
  kernel<<<narrow_blocks(step.samples, step.hidden), kNarrowBlock, 0, stream>>>(
      step, narrow_threads(step.samples, step.hidden));
  BACKPROP_CUDA_CHECK_LAUNCH("narrow_step_partials_kernel");
}

template <class T>
void finish_narrow_step(const T* partials, std::size_t blocks, int inputs, int hidden, double* sums,
                        const NarrowUpdate<T>* update, cudaStream_t stream) {
  const ParameterLayout at = narrow_layout(inputs, hidden);
  finish_narrow_step_kernel<<<(at.sums() + kFinishSums - 1) / kFinishSums, kFinishThreads, 0, stream>>>(
      partials, blocks, at, sums, update ? *update : NarrowUpdate<T>{}, update != nullptr);
  BACKPROP_CUDA_CHECK_LAUNCH("finish_narrow_step_kernel");
}

template <class T>
void narrow_epochs_in_one_block(const NarrowStep<T>& step, const NarrowUpdate<T>& update, std::size_t count,
                                cudaStream_t stream) {
  // Such a data set always takes the polynomial exp2 in float
  // (narrow_exp2), so whatever the dispatch passes, only those kernels are
  // built: the hardware's would never run.
  constexpr math::Exp2 kOneBlockExp2 = std::is_same_v<T, float> ? math::Exp2::polynomial : math::Exp2::hardware;
  using Kernel = void (*)(NarrowStep<T>, NarrowUpdate<T>, std::size_t);
  // Nor for layers whose samples span warps (fits_one_block).
  const Kernel kernel = pick_kernel(step, [](auto in, auto hidden, auto) -> Kernel {
    if constexpr (LaneSplit<decltype(hidden)::value>::kWarps > 1) {
      return nullptr;
    } else {
      return &narrow_epochs_kernel<T, decltype(in)::value, decltype(hidden)::value, kOneBlockExp2>;
    }
  });
  if (kernel == nullptr) throw Error(ErrorKind::device, "narrow_epochs_in_one_block: a layer of " + std::to_string(step.hidden) +
                                     " hidden units does not fit one block");
  kernel<<<1, kNarrowBlock, 0, stream>>>(step, update, count);
  BACKPROP_CUDA_CHECK_LAUNCH("narrow_epochs_kernel");
}

template <class T>
void narrow_forward(const NarrowStep<T>& step, T* probabilities, cudaStream_t stream) {
  const auto kernel = pick_kernel(step, [](auto in, auto hidden, auto exp2) {
    return &narrow_forward_kernel<T, decltype(in)::value, decltype(hidden)::value, decltype(exp2)::value>;
  });
  const std::size_t threads = step.samples * narrow_lanes(step.hidden);
  kernel<<<(threads + kNarrowBlock - 1) / kNarrowBlock, kNarrowBlock, 0, stream>>>(step, probabilities);
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
