// A narrow network's training step, fused: each block of kBlock samples goes
// forward, computes its loss and goes back without leaving registers, and
// adds its gradient terms to per-lane partial sums. The general chunk
// kernels make a pass over scratch arrays per unit and per product instead,
// which for XOR's 2-4-1 shape costs several times more loads and stores than
// arithmetic.
//
// Hidden widths are rounded up to 4 or 8 with zero-weight units: such a unit
// adds exactly 0 to Z2, and its gradients are dropped, so the result is that
// of the true width.
//
// Summation order: within a window of kFlushSamples samples, sample s goes to
// lane s mod kBlock (kBlock = 16 lanes: one AVX-512 register, two AVX2 or
// four SSE ones); the lanes are folded in a fixed tree and added to the
// double sums window by window. It depends on n alone, not on the vector
// width, so every ISA build gives the same bits.
#include "narrow_kernels.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

namespace backprop::cpu::BACKPROP_CPU_ISA {
namespace {

#include "vector_math.hpp"

// The widest float vector this build's instruction set has, as a GCC vector
// type: lane-wise arithmetic, written once for every width.
#if defined(__AVX512F__)
constexpr std::size_t kWidth = 16;
#elif defined(__AVX__)
constexpr std::size_t kWidth = 8;
#else
constexpr std::size_t kWidth = 4;
#endif
using Floats = float __attribute__((vector_size(kWidth * sizeof(float))));

constexpr std::size_t kBlock = 16;           // samples summed side by side, whatever kWidth
constexpr std::size_t kParts = kBlock / kWidth;
constexpr std::size_t kFlushSamples = 1024;  // 64 terms per lane before they go to double

inline Floats load(const float* values) {
  Floats v;
  std::memcpy(&v, values, sizeof v);
  return v;
}

// Lanes First, First + Step, ... of the concatenation of a and b.
template <std::size_t First, std::size_t Step, std::size_t... L>
inline Floats every_other(Floats a, Floats b, std::index_sequence<L...>) {
  return __builtin_shufflevector(a, b, (First + Step * L)...);
}

// Input i of kWidth samples, x being sample-major: x[l * Inputs + i].
template <std::size_t Inputs>
inline Floats input_of(const float* x, std::size_t i) {
  if constexpr (Inputs == 1) {
    return load(x);
  } else if constexpr (Inputs == 2) {  // XOR's case: one shuffle of two registers
    const Floats first = load(x), second = load(x + kWidth);
    constexpr auto lanes = std::make_index_sequence<kWidth>();
    return i == 0 ? every_other<0, 2>(first, second, lanes) : every_other<1, 2>(first, second, lanes);
  } else {
    float row[kWidth];
    for (std::size_t l = 0; l < kWidth; ++l) row[l] = x[l * Inputs + i];
    return load(row);
  }
}

// The weights as fixed-size arrays, padded with zero-weight hidden units.
template <std::size_t Inputs, std::size_t Hidden>
struct NarrowWeights {
  float W1[Inputs][Hidden] = {};
  float b1[Hidden] = {};
  float W2[Hidden] = {};
  float b2 = 0;

  explicit NarrowWeights(const ChunkWeights<float>& w) {
    for (std::size_t j = 0; j < w.hidden; ++j) {
      for (std::size_t i = 0; i < Inputs; ++i) W1[i][j] = w.W1[i * w.hidden + j];
      b1[j] = w.b1[j];
      W2[j] = w.W2[j];
    }
    b2 = w.b2[0];
  }
};

// Partial sums of kWidth lanes for each quantity of GradientLayout.
template <std::size_t Inputs, std::size_t Hidden>
struct LaneSums {
  Floats loss = {};
  Floats db2 = {};
  Floats dW2[Hidden] = {};
  Floats db1[Hidden] = {};
  Floats dW1[Inputs][Hidden] = {};
};

// kBlock lanes of one quantity, kParts registers of kWidth, folded in
// halves (l + 8, then l + 4, l + 2, l + 1): the same tree for every width.
template <std::size_t Inputs, std::size_t Hidden, class Quantity>
double fold(const LaneSums<Inputs, Hidden> (&parts)[kParts], Quantity quantity) {
  float lane[kBlock];
  for (std::size_t p = 0; p < kParts; ++p) {
    const Floats v = quantity(parts[p]);
    std::memcpy(lane + p * kWidth, &v, sizeof v);
  }
  for (std::size_t width = kBlock / 2; width > 0; width /= 2) {
    for (std::size_t l = 0; l < width; ++l) lane[l] += lane[l + width];
  }
  return lane[0];
}

// Folds each quantity and adds it to sums, true hidden units only.
template <std::size_t Inputs, std::size_t Hidden>
void add_lane_sums(const LaneSums<Inputs, Hidden> (&parts)[kParts], std::size_t hidden, double* sums) {
  using Sums = LaneSums<Inputs, Hidden>;
  const GradientLayout at{Inputs, hidden, 1};
  sums[at.loss()] += fold(parts, [](const Sums& q) { return q.loss; });
  sums[at.db2()] += fold(parts, [](const Sums& q) { return q.db2; });
  for (std::size_t j = 0; j < hidden; ++j) {
    sums[at.dW2() + j] += fold(parts, [j](const Sums& q) { return q.dW2[j]; });
    sums[at.db1() + j] += fold(parts, [j](const Sums& q) { return q.db1[j]; });
    for (std::size_t i = 0; i < Inputs; ++i) {
      sums[at.dW1() + i * hidden + j] += fold(parts, [i, j](const Sums& q) { return q.dW1[i][j]; });
    }
  }
}

// kWidth samples forward and back; x holds their inputs (sample-major), y
// their targets. Only the first `live` samples count (all of them unless
// Partial): the others' deltas and losses are zeroed, which zeroes every
// gradient term they would add.
template <bool Partial, std::size_t Inputs, std::size_t Hidden>
inline void vector_step(const NarrowWeights<Inputs, Hidden>& w, const float* x, const float* y,
                        [[maybe_unused]] std::size_t live, LaneSums<Inputs, Hidden>& sums) {
  Floats xt[Inputs];
  for (std::size_t i = 0; i < Inputs; ++i) xt[i] = input_of<Inputs>(x, i);
  // A1 = σ(X W1 + b1)
  Floats a1[Hidden];
  for (std::size_t j = 0; j < Hidden; ++j) {
    Floats z = xt[0] * w.W1[0][j];
    for (std::size_t i = 1; i < Inputs; ++i) z += xt[i] * w.W1[i][j];
    a1[j] = sigmoid(z + w.b1[j]);
  }
  // Z2 = A1 W2 + b2;  loss = bce(Z2, y);  dZ2 = σ(Z2) - y
  Floats z2 = a1[0] * w.W2[0];
  for (std::size_t j = 1; j < Hidden; ++j) z2 += a1[j] * w.W2[j];
  const Floats target = load(y);
  Floats p;
  Floats loss = sigmoid_and_bce(z2 + w.b2, target, p);
  Floats dz2 = p - target;
  if constexpr (Partial) {
    Floats lane_index;
    for (std::size_t l = 0; l < kWidth; ++l) lane_index[l] = static_cast<float>(l);
    const auto live_lane = lane_index < static_cast<float>(live);
    loss = select(live_lane, loss, splat<Floats>(0.0f));
    dz2 = select(live_lane, dz2, splat<Floats>(0.0f));
  }
  sums.loss += loss;
  sums.db2 += dz2;
  // dW2 = A1ᵀ dZ2;  dZ1 = (dZ2 W2ᵀ) ⊙ A1 ⊙ (1 - A1);  db1 = Σ dZ1;  dW1 = Xᵀ dZ1
  for (std::size_t j = 0; j < Hidden; ++j) {
    sums.dW2[j] += a1[j] * dz2;
    const Floats dz1 = dz2 * w.W2[j] * (a1[j] * (1.0f - a1[j]));
    sums.db1[j] += dz1;
    for (std::size_t i = 0; i < Inputs; ++i) sums.dW1[i][j] += xt[i] * dz1;
  }
}

template <std::size_t Inputs, std::size_t Hidden>
void narrow_gradients(const ChunkWeights<float>& weights, const float* x, const float* y, std::size_t n,
                      double* sums) {
  const NarrowWeights<Inputs, Hidden> w(weights);
  for (std::size_t start = 0; start < n; start += kFlushSamples) {
    const std::size_t end = std::min(n, start + kFlushSamples);
    LaneSums<Inputs, Hidden> parts[kParts];
    std::size_t s = start;
    for (; s + kBlock <= end; s += kBlock) {
      for (std::size_t p = 0; p < kParts; ++p) {
        const std::size_t first = s + p * kWidth;
        vector_step<false>(w, x + first * Inputs, y + first, kWidth, parts[p]);
      }
    }
    if (s < end) {
      // The last few samples, copied into a zero-padded block.
      float xb[kBlock * Inputs] = {}, yb[kBlock] = {};
      std::copy(x + s * Inputs, x + end * Inputs, xb);
      std::copy(y + s, y + end, yb);
      const std::size_t live = end - s;
      for (std::size_t p = 0; p < kParts; ++p) {
        const std::size_t first = p * kWidth;
        const std::size_t part_live = live > first ? std::min(live - first, kWidth) : 0;
        vector_step<true>(w, xb + first * Inputs, yb + first, part_live, parts[p]);
      }
    }
    add_lane_sums(parts, weights.hidden, sums);
  }
}

template <std::size_t Inputs>
void narrow_gradients_for_inputs(const ChunkWeights<float>& w, const float* x, const float* y, std::size_t n,
                                 double* sums) {
  if (w.hidden <= 4) {
    narrow_gradients<Inputs, 4>(w, x, y, n, sums);
  } else {
    narrow_gradients<Inputs, 8>(w, x, y, n, sums);
  }
}

}  // namespace

void narrow_chunk_gradients(const ChunkWeights<float>& w, const float* x, const float* y, std::size_t n,
                            double* sums) {
  switch (w.inputs) {
    case 1: narrow_gradients_for_inputs<1>(w, x, y, n, sums); break;
    case 2: narrow_gradients_for_inputs<2>(w, x, y, n, sums); break;
    case 3: narrow_gradients_for_inputs<3>(w, x, y, n, sums); break;
    default: narrow_gradients_for_inputs<4>(w, x, y, n, sums); break;
  }
}

}  // namespace backprop::cpu::BACKPROP_CPU_ISA
