// The whole training step of a narrow network in one kernel. For one output,
// at most kNarrowMaxInputs inputs and kNarrowMaxHidden hidden units, a
// thread holds the weights of up to kUnitsPerLane hidden units in
// registers, runs forward and backward on its samples and keeps the
// gradient sums in registers: the step reads each sample's features and
// target once (12 bytes for the article's shape) and writes nothing per
// sample, where the GEMM path moves its activations through memory several
// times. A wider layer spreads each sample over narrow_lanes(hidden)
// neighbouring lanes, kUnitsPerLane units each, which add up the output's
// logit: with shuffles within a warp, up to 256 units, and over the 2 or 4
// warps of a wider layer's sample through shared memory as well.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>

#include "activation_math.hpp"
#include "parameter_layout.hpp"
#include "update_rule.hpp"

namespace backprop::cuda {

constexpr int kNarrowMaxInputs = 4;
constexpr int kNarrowMaxHidden = 1024;
constexpr int kUnitsPerLane = 8;
constexpr int kNarrowBlock = 256;
// Threads of a step: about what an H100 keeps resident. Fixed, so the
// partial sums take the same memory whatever N, and the summation order is
// a function of N alone.
constexpr std::size_t kNarrowThreads = std::size_t{1} << 18;

inline bool fits_narrow_step(std::size_t inputs, std::size_t hidden, std::size_t outputs) {
  return outputs == 1 && inputs >= 1 && inputs <= kNarrowMaxInputs && hidden >= 1 && hidden <= kNarrowMaxHidden;
}

// The hidden width the kernels compute (their layout's kHidden): the true
// one padded with zero-weight units to a power of two, at least 4.
inline std::size_t narrow_padded_hidden(std::size_t hidden) {
  std::size_t padded = 4;
  while (padded < hidden) padded *= 2;
  return padded;
}
// Lanes that share a sample in the layout of `padded` hidden units: one up
// to kUnitsPerLane units; from 512 units, whole warps (2 or 4 of them).
constexpr std::size_t lanes_of_layout(std::size_t padded) {
  return padded < kUnitsPerLane ? 1 : padded / kUnitsPerLane;
}
inline std::size_t narrow_lanes(std::size_t hidden) { return lanes_of_layout(narrow_padded_hidden(hidden)); }

// Threads of a step: a whole number of samples' lanes.
inline std::size_t narrow_threads(std::size_t samples, std::size_t hidden) {
  const std::size_t lanes = narrow_lanes(hidden);
  return std::min(samples, kNarrowThreads / lanes) * lanes;
}
// Blocks of a step, and so partial sums per gradient component.
inline std::size_t narrow_blocks(std::size_t samples, std::size_t hidden) {
  return (narrow_threads(samples, hidden) + kNarrowBlock - 1) / kNarrowBlock;
}

// The sums a step writes per block: ParameterLayout's, the gradient of
// [W1 | b1 | W2 | b2] and then the loss, sums() in all.
__host__ __device__ inline ParameterLayout narrow_layout(int inputs, int hidden) {
  return {static_cast<std::size_t>(inputs), static_cast<std::size_t>(hidden), 1};
}

template <class T>
struct NarrowStep {
  int inputs, hidden;
  const T* x;       // (N, inputs)
  const T* y;       // (N)
  std::size_t samples;
  const T *W1, *b1, *W2, *b2;
  T inv_samples;    // dZ2 carries the 1/N, as on the GEMM path
  T* partials;      // (narrow_layout().sums(), narrow_blocks(N, hidden)): sum k of block b at k * blocks + b
  math::Exp2 exp2;  // narrow_exp2(the data set's N, hidden), for every kernel that runs on it
};

// Each sample group of narrow_threads(N, hidden) / lanes takes the samples
// g, g + groups, ... in order, its lanes each computing their units; each
// block adds up its threads' sums and writes them (see
// NarrowStep::partials); finish_narrow_step adds up the blocks. The order
// of every sum is a function of N and the shape alone.
template <class T>
void narrow_step_partials(const NarrowStep<T>& step, cudaStream_t stream);

// The update of a step (update_rule.hpp: parameter k from the mean
// gradient, the sum k rounded to T), and the epoch's loss:
// loss_history[*epoch] = Σ bce / N, then ++*epoch.
template <class T>
struct NarrowUpdate {
  UpdateRule rule;
  T* params;                 // the step's parameters, flat, updated in place
  StateArrays<T> state;
  StepScalars* step;         // this step's scalars (advance_step); kept up to date by the one-block kernel
  double inv_samples;
  double* loss_history;
  unsigned* epoch;
};

// The end of a step: each sum of narrow_layout() added over the step's
// blocks in double, in an order fixed by their count, 32 sums a block;
// then the update where one is given, else the sums into sums[k].
// One launch where a column reduction and an update kernel would take two
// graph nodes.
template <class T>
void finish_narrow_step(const T* partials, std::size_t blocks, int inputs, int hidden, double* sums,
                        const NarrowUpdate<T>* update, cudaStream_t stream);

// A data set whose sample groups one block holds trains `count` epochs in
// one launch (narrow_epochs_in_one_block): launches, not arithmetic, would
// bound it otherwise. Not for layers whose samples span warps (above 256
// units): one block holds just two of their samples, and their totals
// would not fit in its shared memory in double.
inline bool fits_one_block(std::size_t samples, std::size_t hidden) {
  return narrow_lanes(hidden) <= 32 && samples * narrow_lanes(hidden) <= static_cast<std::size_t>(kNarrowBlock);
}

// A data set one block holds (the article's four samples) trains for
// thousands of epochs bound by latency, not by instruction issue. There the
// float kernels take 2^y from a polynomial whose bits the host computes too
// (math::exponential2_polynomial) instead of the hardware's exp2, whose
// rounding is undocumented: the host emulation then computes such a run's
// bits, and the article's saddle plateau, where an exp2 biased by one ulp
// moves the escape and the losses by some 2·10⁻³ from the CPU's, gets the
// CPU's own exp2. The cost is some 60 instructions a sample more (2-4-1:
// 171 in the step's loop, not 111). Larger data sets keep the instruction.
inline math::Exp2 narrow_exp2(std::size_t samples, std::size_t hidden) {
  return fits_one_block(samples, hidden) ? math::Exp2::polynomial : math::Exp2::hardware;
}

// `count` epochs, each the step and the update in one block, *epoch
// advancing by count and *update.step by count steps; the same bits as
// narrow_step_partials, advance_step and finish_narrow_step give epoch by
// epoch. Needs fits_one_block(step.samples, step.hidden),
// and so computes 2^y as narrow_exp2 says for such a data set, whatever step.exp2.
template <class T>
void narrow_epochs_in_one_block(const NarrowStep<T>& step, const NarrowUpdate<T>& update, std::size_t count,
                                cudaStream_t stream);

// probabilities[n] = σ(σ(x_n W1 + b1) W2 + b2) for the step's samples (its
// y, inv_samples and partials are not used).
template <class T>
void narrow_forward(const NarrowStep<T>& step, T* probabilities, cudaStream_t stream);

}  // namespace backprop::cuda
