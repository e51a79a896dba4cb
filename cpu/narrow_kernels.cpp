// A narrow network's training step, fused: each block of samples goes
// forward, computes its loss and goes back (in registers, or for wide hidden
// layers through a small work area in the L1 and L2 caches), and adds its
// gradient terms to per-lane partial sums. The general chunk kernels make a
// pass over scratch arrays per unit and per product instead, which for
// XOR's 2-4-1 shape costs several times more loads and stores than
// arithmetic, and even at 1024 hidden units runs about 1.6 times slower.
//
// Hidden widths are rounded up to a power of two from 4 to 1024 with
// zero-weight units: such a unit adds exactly 0 to Z2, and its gradients
// are dropped, so the result is that of the true width.
//
// Summation order: within a window of kFlushSamples samples, sample s adds
// its terms to lane s mod 16, in sample order; the 16 lanes are folded in a
// fixed tree and added to the double sums window by window. It depends on n
// alone, not on the vector width, so every ISA build gives the same bits.
#include "narrow_kernels.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <utility>

namespace backprop::cpu::BACKPROP_CPU_ISA {
namespace {

#include "vector_math.hpp"
#include "vector_pack.hpp"

// Each quantity's partial sums have kSumLanes lanes, whatever kWidth:
// sample s of a window adds its term to lane s mod 16, in sample order. One
// AVX-512 register per quantity (two AVX2 ones, four SSE ones), so a step
// loads and stores each sum once, not once per register of samples (at
// 2-4-1, 18 quantities: with a sum register per register of samples the
// step stored twice as many vectors and took a quarter longer). A step
// computes step_registers<Hidden>() registers of samples side by side; a
// block is a whole number of both. A data set of at most kWidth samples
// runs as one register instead, its lanes past kWidth being zeros that the
// fold would add anyway. The order of every sum depends on n alone, so
// every ISA build gives the same bits.
constexpr std::size_t kSumLanes = 16;
constexpr std::size_t kSumRegisters = kSumLanes / kWidth;
constexpr std::size_t kFlushSamples = 1024;  // 64 terms per lane before they go to double
// Registers computed side by side. One register's chain of exponential,
// division and logarithm is about as long as the out-of-order window, so
// independent chains must fill it: four registers up to 8 hidden units on
// AVX-512, two above, and four AVX2 registers, past which their 16
// registers spill. The generic build's speed is its fmaf calls', and
// eight registers at once take the compiler minutes and gigabytes there:
// two. The step changes no bit of the result.
template <std::size_t Hidden>
constexpr std::size_t step_registers() {
#if defined(__AVX512F__)
  return Hidden <= 8 ? 4 : 2;
#elif defined(__AVX__)
  return 4;
#else
  return 2;
#endif
}
template <std::size_t Hidden>
constexpr std::size_t block_registers() {
  return std::max(step_registers<Hidden>(), kSumRegisters);
}
template <std::size_t K>
using Lanes = Pack<Floats, K>;

// Floats at any float-aligned address, without breaking aliasing rules. A
// typedef, not `using`: Clang ignores `aligned` in an alias declaration and
// would load with aligned instructions, which fault on other addresses.
typedef float UnalignedFloats __attribute__((vector_size(kWidth * sizeof(float)), aligned(alignof(float)), may_alias));
static_assert(alignof(UnalignedFloats) == alignof(float), "UnalignedFloats loads from any float's address");

template <std::size_t K>
BACKPROP_ALWAYS_INLINE Lanes<K> load(const float* values) {
  Lanes<K> b;
  for (std::size_t k = 0; k < K; ++k) b.v[k] = *reinterpret_cast<const UnalignedFloats*>(values + k * kWidth);
  return b;
}

// Lanes First, First + Step, ... of the concatenation of a and b.
template <std::size_t First, std::size_t Step, std::size_t... L>
BACKPROP_ALWAYS_INLINE Floats every_other(Floats a, Floats b, std::index_sequence<L...>) {
  return __builtin_shufflevector(a, b, (First + Step * L)...);
}

// K * kWidth samples' inputs, one row per input: rows[i] holds
// x[s * Inputs + i] in lane s (x is sample-major).
template <std::size_t Inputs, std::size_t K>
BACKPROP_ALWAYS_INLINE void load_inputs(const float* x, Lanes<K> (&rows)[Inputs]) {
  if constexpr (Inputs == 1) {
    rows[0] = load<K>(x);
  } else if constexpr (Inputs == 2) {  // XOR's case: registers 2k and 2k + 1 hold samples k * kWidth ...
    const Lanes<2 * K> pairs = load<2 * K>(x);
    constexpr auto lanes = std::make_index_sequence<kWidth>();
    for (std::size_t k = 0; k < K; ++k) {
      rows[0].v[k] = every_other<0, 2>(pairs.v[2 * k], pairs.v[2 * k + 1], lanes);
      rows[1].v[k] = every_other<1, 2>(pairs.v[2 * k], pairs.v[2 * k + 1], lanes);
    }
  } else {
    for (std::size_t i = 0; i < Inputs; ++i) {
      float row[K * kWidth];
      for (std::size_t s = 0; s < K * kWidth; ++s) row[s] = x[s * Inputs + i];
      rows[i] = load<K>(row);
    }
  }
}

// The weights as fixed-size arrays, padded with zero-weight hidden units.
// The hidden layer's are stored times -log2(e), rounded once from double,
// so that X W1 + b1 comes out as y = -z log2(e) and σ(z) = 1 / (1 + 2^y)
// needs no multiply to reduce its argument (exp2_polynomial). This rounds
// each weight once more, about as much as computing z rounds it.
template <std::size_t Inputs, std::size_t Hidden>
struct NarrowWeights {
  float W1[Inputs][Hidden] = {};  // times -log2(e)
  float b1[Hidden] = {};          // times -log2(e)
  float W2[Hidden] = {};
  float b2 = 0;

  // math::kMinusLog2e (core/activation_math.hpp, which this per-ISA file
  // does not include: see vector_math.hpp).
  static float to_base2(float weight) { return static_cast<float>(weight * -1.4426950408889634); }

  explicit NarrowWeights(const ChunkWeights<float>& w) {
    for (std::size_t j = 0; j < w.hidden; ++j) {
      for (std::size_t i = 0; i < Inputs; ++i) W1[i][j] = to_base2(w.W1[i * w.hidden + j]);
      b1[j] = to_base2(w.b1[j]);
      W2[j] = w.W2[j];
    }
    b2 = w.b2[0];
  }
};

// Partial sums, K * kWidth lanes for each quantity of the sums. A
// window's first terms set them (no zeroing pass; the same values as adding
// to zeros).
template <std::size_t Inputs, std::size_t Hidden, std::size_t K>
struct LaneSums {
  Lanes<K> loss;
  Lanes<K> db2;
  Lanes<K> dW2[Hidden];
  Lanes<K> db1[Hidden];
  Lanes<K> dW1[Inputs][Hidden];
};

// Register r = at + s of a block's samples adds its term into register
// r mod K of the sum, in order; in a window's first block the first K of
// them set it instead.
template <bool First, std::size_t K, std::size_t S>
BACKPROP_ALWAYS_INLINE void add_term(Lanes<K>& sum, std::size_t at, const Lanes<S>& term) {
  for (std::size_t s = 0; s < S; ++s) {
    Floats& lanes = sum.v[(at + s) % K];
    lanes = First && at + s < K ? term.v[s] : lanes + term.v[s];
  }
}
// The same with the term a ⊙ b, fused into the sum.
template <bool First, std::size_t K, std::size_t S>
BACKPROP_ALWAYS_INLINE void add_product(Lanes<K>& sum, std::size_t at, const Lanes<S>& a, const Lanes<S>& b) {
  for (std::size_t s = 0; s < S; ++s) {
    Floats& lanes = sum.v[(at + s) % K];
    lanes = First && at + s < K ? a.v[s] * b.v[s] : multiply_add(a.v[s], b.v[s], lanes);
  }
}

// A quantity's 16 lanes are folded in halves: lane l + lane l + 8, then
// l + 4, l + 2 and l + 1, a fixed tree, the same for every vector width.
// fold_sixteen folds sixteen quantities at once, r[q] the total of q: at
// each level, two shuffles pair the lanes to add across two vectors, so
// that every lane of every add does useful work and the vectors halve.
// About three instructions a quantity on AVX-512, where folding each one
// apart took a dozen: at 1024 hidden units on a few samples, where every
// step folds 4000 quantities for one register of samples, the folds took
// 30% of the step and now take 20%.
using Sixteen = float __attribute__((vector_size(16 * sizeof(float))));

BACKPROP_ALWAYS_INLINE Sixteen fold_sixteen(const Sixteen (&q)[16]) {
  Sixteen s8[8], s4[4], s2[2];
  for (std::size_t p = 0; p < 8; ++p) {  // quantities 2p, 2p + 1: 8 lanes each
    const Sixteen &a = q[2 * p], &b = q[2 * p + 1];
    s8[p] = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
            __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  }
  for (std::size_t p = 0; p < 4; ++p) {  // quantities 4p ... 4p + 3: 4 lanes each
    const Sixteen &a = s8[2 * p], &b = s8[2 * p + 1];
    s4[p] = __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +
            __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  }
  for (std::size_t p = 0; p < 2; ++p) {  // quantities 8p ... 8p + 7: 2 lanes each
    const Sixteen &a = s4[2 * p], &b = s4[2 * p + 1];
    s2[p] = __builtin_shufflevector(a, b, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29) +
            __builtin_shufflevector(a, b, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31);
  }
  return __builtin_shufflevector(s2[0], s2[1], 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) +
         __builtin_shufflevector(s2[0], s2[1], 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

// The sums' quantities in LaneSums order: the loss, db2, dW2[Hidden],
// db1[Hidden], dW1[Inputs][Hidden], each a Lanes<K>.
template <std::size_t Inputs, std::size_t Hidden, std::size_t K>
constexpr std::size_t kQuantities = sizeof(LaneSums<Inputs, Hidden, K>) / sizeof(Lanes<K>);

// Count quantities from `quantities` folded into totals[0, Count). A data
// set of one register has only K * kWidth < 16 live lanes; they are read
// into 16 with zeros above, whose levels of the tree add zeros: that can
// change nothing but the sign of a zero total, and adding that to the
// double sums (which start at +0) makes it +0 either way.
template <std::size_t Count, std::size_t K>
BACKPROP_ALWAYS_INLINE void fold(const Lanes<K>* quantities, float* totals) {
  static_assert(K * kWidth <= 16, "at most 16 lanes a quantity");
  auto read = [&](std::size_t t) {
    Sixteen q{};
    std::memcpy(&q, quantities + t, sizeof(Lanes<K>));
    return q;
  };
  constexpr std::size_t kWhole = Count / 16 * 16;
  for (std::size_t done = 0; done < kWhole; done += 16) {
    Sixteen q[16];
    for (std::size_t t = 0; t < 16; ++t) q[t] = read(done + t);
    const Sixteen r = fold_sixteen(q);
    std::memcpy(totals + done, &r, sizeof r);
  }
  if constexpr (kWhole < Count) {
    Sixteen q[16];
    for (std::size_t t = 0; t < 16; ++t) q[t] = kWhole + t < Count ? read(kWhole + t) : Sixteen{};
    const Sixteen r = fold_sixteen(q);
    std::memcpy(totals + kWhole, &r, (Count - kWhole) * sizeof(float));
  }
}

// Folds each quantity and adds it to sums, true hidden units only. The
// hidden layer's lanes hold sums of dZ2 ⊙ A1 ⊙ (1 - A1) terms: W2's factor
// is the same for every sample, so it multiplies the window's sum, in
// double, instead of every term. The quantities are folded in batches, a
// few KiB of totals at a time.
template <std::size_t Inputs, std::size_t Hidden, std::size_t K>
void add_lane_sums(const LaneSums<Inputs, Hidden, K>& lanes, const NarrowWeights<Inputs, Hidden>& w,
                   std::size_t hidden, double* sums) {
  using Sums = LaneSums<Inputs, Hidden, K>;
  static_assert(sizeof(Sums) % sizeof(Lanes<K>) == 0, "an array of Lanes<K>");
  constexpr std::size_t kCount = kQuantities<Inputs, Hidden, K>;
  constexpr std::size_t kBatch = std::min<std::size_t>(kCount, 1024);
  // Where each member of LaneSums starts, counted in quantities.
  constexpr std::size_t kLoss = offsetof(Sums, loss) / sizeof(Lanes<K>), kDb2 = offsetof(Sums, db2) / sizeof(Lanes<K>),
                        kDW2 = offsetof(Sums, dW2) / sizeof(Lanes<K>), kDb1 = offsetof(Sums, db1) / sizeof(Lanes<K>),
                        kDW1 = offsetof(Sums, dW1) / sizeof(Lanes<K>);
  const Lanes<K>* quantities = reinterpret_cast<const Lanes<K>*>(&lanes);
  const ParameterLayout at{Inputs, hidden, 1};
  float totals[kBatch];
  for (std::size_t first = 0; first < kCount; first += kBatch) {
    const std::size_t end = std::min(kCount, first + kBatch);
    if (end - first == kBatch) {
      fold<kBatch>(quantities + first, totals);
    } else {
      fold<kCount % kBatch>(quantities + first, totals);
    }
    // The quantities [start, start + count) that fall in this batch:
    // add(j, total) for the j-th of them.
    auto each = [&](std::size_t start, std::size_t count, auto add) {
      const std::size_t lo = std::max(first, start), hi = std::min(end, start + count);
      for (std::size_t t = lo; t < hi; ++t) add(t - start, static_cast<double>(totals[t - first]));
    };
    each(kLoss, 1, [&](std::size_t, double total) { sums[at.loss()] += total; });
    each(kDb2, 1, [&](std::size_t, double total) { sums[at.b2()] += total; });
    each(kDW2, hidden, [&](std::size_t j, double total) { sums[at.W2() + j] += total; });
    each(kDb1, hidden, [&](std::size_t j, double total) { sums[at.b1() + j] += w.W2[j] * total; });
    for (std::size_t i = 0; i < Inputs; ++i) {
      each(kDW1 + i * Hidden, hidden,
           [&](std::size_t j, double total) { sums[at.W1() + i * hidden + j] += w.W2[j] * total; });
    }
  }
}

// The activations' array: `local` when it has room for Hidden registers,
// else the Hidden registers at spill.
template <std::size_t Hidden, class Block, std::size_t N>
BACKPROP_ALWAYS_INLINE auto activations(Block (&local)[N], [[maybe_unused]] Block* spill) -> Block (&)[Hidden] {
  if constexpr (N == Hidden) {
    return local;
  } else {
    return *reinterpret_cast<Block(*)[Hidden]>(spill);
  }
}

// S * kWidth samples forward and back, their terms added to registers at,
// at + 1, ... of the lane sums; x holds their inputs (sample-major), y their
// targets. Only the first `live` samples count (all of them unless Partial):
// the others' deltas and losses are zeroed, which zeroes every gradient term
// they would add. The activations wait for the backward pass in a local
// array up to kStackHidden hidden units, else in spill (see WorkArea).
template <bool First, bool Partial, std::size_t S, std::size_t Inputs, std::size_t Hidden, std::size_t K>
BACKPROP_ALWAYS_INLINE void step(const NarrowWeights<Inputs, Hidden>& w, const float* x, const float* y,
                                 [[maybe_unused]] std::size_t live, LaneSums<Inputs, Hidden, K>& sums,
                                 std::size_t at, [[maybe_unused]] Lanes<S>* spill) {
  using Block = Lanes<S>;
  Block xt[Inputs];
  load_inputs<Inputs>(x, xt);
  [[maybe_unused]] Block local[Hidden <= kStackHidden ? Hidden : 1];
  Block(&a1)[Hidden] = activations<Hidden>(local, spill);
  // A1 = σ(X W1 + b1), from y = -(X W1 + b1) log2(e)
#pragma GCC unroll 8
  for (std::size_t j = 0; j < Hidden; ++j) {
    Block y = splat<Block>(w.b1[j]);
#pragma GCC unroll 8
    for (std::size_t i = 0; i < Inputs; ++i) y = multiply_add(xt[i], splat<Block>(w.W1[i][j]), y);
    a1[j] = sigmoid_of_base2(y);
  }
  // Z2 = A1 W2 + b2;  loss = bce(Z2, y);  dZ2 = σ(Z2) - y
  Block z2 = splat<Block>(w.b2);
#pragma GCC unroll 8
  for (std::size_t j = 0; j < Hidden; ++j) z2 = multiply_add(a1[j], splat<Block>(w.W2[j]), z2);
  const Block target = load<S>(y);
  Block p;
  Block loss = sigmoid_and_bce(z2, target, p);
  Block dz2 = p - target;
  if constexpr (Partial) {
    float index[S * kWidth];
    for (std::size_t s = 0; s < S * kWidth; ++s) index[s] = static_cast<float>(s);
    const auto live_lane = load<S>(index) < static_cast<float>(live);
    loss = select(live_lane, loss, splat<Block>(0.0f));
    dz2 = select(live_lane, dz2, splat<Block>(0.0f));
  }
  add_term<First>(sums.loss, at, loss);
  add_term<First>(sums.db2, at, dz2);
  // dW2 = A1ᵀ dZ2;  dZ1 = (dZ2 W2ᵀ) ⊙ A1 ⊙ (1 - A1);  db1 = Σ dZ1;  dW1 = Xᵀ dZ1,
  // with W2's factor left to add_lane_sums
#pragma GCC unroll 8
  for (std::size_t j = 0; j < Hidden; ++j) {
    add_product<First>(sums.dW2[j], at, a1[j], dz2);
    const Block dz1_over_w2 = dz2 * (a1[j] * (1.0f - a1[j]));
    add_term<First>(sums.db1[j], at, dz1_over_w2);
#pragma GCC unroll 8
    for (std::size_t i = 0; i < Inputs; ++i) add_product<First>(sums.dW1[i][j], at, xt[i], dz1_over_w2);
  }
}

// A block of B * kWidth samples (x, y as in step), S registers at a time;
// live and spill as in step.
template <bool First, bool Partial, std::size_t B, std::size_t S, std::size_t Inputs, std::size_t Hidden,
          std::size_t K>
BACKPROP_ALWAYS_INLINE void block_step(const NarrowWeights<Inputs, Hidden>& w, const float* x, const float* y,
                                       std::size_t live, LaneSums<Inputs, Hidden, K>& sums, Lanes<S>* spill) {
  for (std::size_t at = 0; at < B; at += S) {
    const std::size_t first = at * kWidth;
    const std::size_t step_live = live > first ? std::min(live - first, S * kWidth) : 0;
    step<First, Partial, S>(w, x + first * Inputs, y + first, step_live, sums, at, spill);
  }
}

// to[0, count) = from[0, count), then zeros up to Total, a register at a
// time. A masked load reads only the first count floats (masked-off lanes
// cannot fault), and whole-register stores let the block's loads take the
// values straight from the store buffer, where after a copy in smaller
// pieces they waited for it to drain (the article's 4 samples are one
// partial block an epoch: its run takes 7% less time this way).
template <std::size_t Total>
BACKPROP_ALWAYS_INLINE void copy_zero_padded(const float* from, std::size_t count, float* to) {
  static_assert(Total % kWidth == 0, "whole registers");
  for (std::size_t first = 0; first < Total; first += kWidth) {
    const std::size_t take = count > first ? std::min(count - first, kWidth) : 0;
    const float* at = from + std::min(first, count);  // not past the end, even where nothing is read
#if defined(__AVX512F__)
    *reinterpret_cast<Floats*>(to + first) = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << take) - 1), at);
#elif defined(__AVX2__)
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(take)), lanes);
    *reinterpret_cast<Floats*>(to + first) = _mm256_maskload_ps(at, mask);
#else
    Floats v = {};
    for (std::size_t l = 0; l < take; ++l) v[l] = at[l];
    *reinterpret_cast<Floats*>(to + first) = v;
#endif
  }
}

// The last `live` < B * kWidth samples of a window, copied into a
// zero-padded block.
template <bool First, std::size_t B, std::size_t S, std::size_t Inputs, std::size_t Hidden, std::size_t K>
void partial_block_step(const NarrowWeights<Inputs, Hidden>& w, const float* x, const float* y, std::size_t live,
                        LaneSums<Inputs, Hidden, K>& sums, Lanes<S>* spill) {
  alignas(sizeof(Floats)) float xb[B * kWidth * Inputs], yb[B * kWidth];
  copy_zero_padded<B * kWidth * Inputs>(x, live * Inputs, xb);
  copy_zero_padded<B * kWidth>(y, live, yb);
  block_step<First, true, B, S>(w, xb, yb, live, sums, spill);
}

// What a call keeps above kStackHidden hidden units, in the caller's work
// area: the lane sums, and the activations of the S registers in flight
// between the forward and the backward pass (step's spill).
template <std::size_t Inputs, std::size_t Hidden, std::size_t K, std::size_t S>
struct WorkArea {
  LaneSums<Inputs, Hidden, K> lanes;
  Lanes<S> spill[Hidden];
};

// Where a call's lane sums and step's spill are: a local LaneSums up to
// kStackHidden hidden units (no spill: step keeps the activations in
// locals), else a WorkArea placed in work.
template <std::size_t Inputs, std::size_t Hidden, std::size_t K, std::size_t S, bool kOnStack = Hidden <= kStackHidden>
struct CallStorage {
  explicit CallStorage(float*) {}
  LaneSums<Inputs, Hidden, K> lanes;
  Lanes<S>* const spill = nullptr;
};
template <std::size_t Inputs, std::size_t Hidden, std::size_t K, std::size_t S>
struct CallStorage<Inputs, Hidden, K, S, false> {
  static_assert(alignof(WorkArea<Inputs, Hidden, K, S>) <= 64, "work starts on a 64-byte boundary");
  explicit CallStorage(float* work) : area(*new (work) WorkArea<Inputs, Hidden, K, S>) {}
  WorkArea<Inputs, Hidden, K, S>& area;
  LaneSums<Inputs, Hidden, K>& lanes = area.lanes;
  Lanes<S>* const spill = area.spill;
};

// The samples [start, end) of a window, kBlock registers at a time, their
// terms set into lanes and then added to sums.
template <std::size_t Inputs, std::size_t Hidden, std::size_t K, std::size_t S>
BACKPROP_ALWAYS_INLINE void window(const NarrowWeights<Inputs, Hidden>& w, const float* x, const float* y,
                                   std::size_t start, std::size_t end, LaneSums<Inputs, Hidden, K>& lanes,
                                   Lanes<S>* spill, std::size_t hidden, double* sums) {
  constexpr std::size_t kBlock = block_registers<Hidden>();
  constexpr std::size_t kBlockSamples = kBlock * kWidth;
  std::size_t s = start;
  if (s + kBlockSamples <= end) {
    block_step<true, false, kBlock, S>(w, x + s * Inputs, y + s, kBlockSamples, lanes, spill);
    for (s += kBlockSamples; s + kBlockSamples <= end; s += kBlockSamples) {
      block_step<false, false, kBlock, S>(w, x + s * Inputs, y + s, kBlockSamples, lanes, spill);
    }
  }
  if (s == start) {
    partial_block_step<true, kBlock, S>(w, x + s * Inputs, y + s, end - s, lanes, spill);
  } else if (s < end) {
    partial_block_step<false, kBlock, S>(w, x + s * Inputs, y + s, end - s, lanes, spill);
  }
  add_lane_sums(lanes, w, hidden, sums);
}

template <std::size_t Inputs, std::size_t Hidden>
void narrow_gradients(const ChunkWeights<float>& weights, const float* x, const float* y, std::size_t n,
                      float* work, double* sums) {
  const NarrowWeights<Inputs, Hidden> w(weights);
  if (n <= kWidth) {  // a tiny data set (the article's): one register
    CallStorage<Inputs, Hidden, 1, 1> at(work);
    partial_block_step<true, 1, 1>(w, x, y, n, at.lanes, at.spill);
    add_lane_sums(at.lanes, w, weights.hidden, sums);
    return;
  }
  constexpr std::size_t kStep = step_registers<Hidden>();
  for (std::size_t start = 0; start < n; start += kFlushSamples) {
    CallStorage<Inputs, Hidden, kSumRegisters, kStep> at(work);
    window(w, x, y, start, std::min(n, start + kFlushSamples), at.lanes, at.spill, weights.hidden, sums);
  }
}

// The floats of work area narrow_gradients<Inputs, Hidden> needs: the
// larger of its two work areas (one register at a time, or kStep).
template <std::size_t Inputs, std::size_t Hidden>
constexpr std::size_t work_floats() {
  if constexpr (Hidden <= kStackHidden) {
    return 0;
  } else {
    constexpr std::size_t kStep = step_registers<Hidden>();
    return std::max(sizeof(WorkArea<Inputs, Hidden, 1, 1>), sizeof(WorkArea<Inputs, Hidden, kSumRegisters, kStep>)) /
           sizeof(float);
  }
}

// Calls f.template operator()<Inputs, Hidden>() for w's input count and its
// hidden width rounded up to a power of two from 4: the narrow kernels that
// this file builds.
template <class F>
decltype(auto) with_narrow_shape(const ChunkWeights<float>& w, F f) {
  auto for_inputs = [&]<std::size_t Inputs>() -> decltype(auto) {
    if (w.hidden <= 4) return f.template operator()<Inputs, 4>();
    if (w.hidden <= 8) return f.template operator()<Inputs, 8>();
    if (w.hidden <= 16) return f.template operator()<Inputs, 16>();
    if (w.hidden <= 32) return f.template operator()<Inputs, 32>();
    if (w.hidden <= 64) return f.template operator()<Inputs, 64>();
    if (w.hidden <= 128) return f.template operator()<Inputs, 128>();
    if (w.hidden <= 256) return f.template operator()<Inputs, 256>();
    if (w.hidden <= 512) return f.template operator()<Inputs, 512>();
    static_assert(kMaxNarrowHidden == 1024, "one instance per power of two up to kMaxNarrowHidden");
    return f.template operator()<Inputs, 1024>();
  };
  switch (w.inputs) {
    case 1: return for_inputs.template operator()<1>();
    case 2: return for_inputs.template operator()<2>();
    case 3: return for_inputs.template operator()<3>();
    default: return for_inputs.template operator()<4>();
  }
}

}  // namespace

std::size_t narrow_work_floats(const ChunkWeights<float>& w) {
  return with_narrow_shape(w, []<std::size_t Inputs, std::size_t Hidden>() { return work_floats<Inputs, Hidden>(); });
}

void narrow_chunk_gradients(const ChunkWeights<float>& w, const float* x, const float* y, std::size_t n,
                            float* work, double* sums) {
  with_narrow_shape(w, [&]<std::size_t Inputs, std::size_t Hidden>() {
    narrow_gradients<Inputs, Hidden>(w, x, y, n, work, sums);
  });
}

}  // namespace backprop::cpu::BACKPROP_CPU_ISA
