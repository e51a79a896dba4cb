// One chunk of samples through the network and back: the article's forward
// and backward, fused per chunk so nothing is N x hidden. Compiled once per
// instruction set with BACKPROP_CPU_ISA naming the namespace; everything here
// has internal linkage but the two entry points, so the builds never mix.
//
// Sums over samples run in kLanes partial sums folded in a fixed tree, then
// in double, so a chunk's result depends only on its samples.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "chunk_kernels.hpp"
#include "narrow_kernels.hpp"

namespace backprop::cpu::BACKPROP_CPU_ISA {
namespace {

#include "vector_math.hpp"
#include "vector_pack.hpp"

// The lanes folded in half until one is left: a fixed tree of vector adds,
// cheaper than a chain of kLanes dependent scalar adds.
template <std::size_t Width = kLanes / 2, class T>
BACKPROP_ALWAYS_INLINE T fold_lanes(T (&lane)[kLanes]) {
  for (std::size_t l = 0; l < Width; ++l) lane[l] += lane[l + Width];
  if constexpr (Width > 1) {
    return fold_lanes<Width / 2>(lane);
  } else {
    return lane[0];
  }
}

// Σ_s a[s] b[s] over n samples: sample s in lane s mod kLanes for the whole
// blocks, the lanes folded, then the leftover samples added in double.
template <class T>
double sum_of_products(const T* a, const T* b, std::size_t n) {
  double total = 0;
  std::size_t s = 0;
  if (n >= kLanes) {
    T lane[kLanes] = {};
    for (; s + kLanes <= n; s += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) lane[l] += a[s + l] * b[s + l];
    }
    total = fold_lanes(lane);
  }
  for (; s < n; ++s) total += static_cast<double>(a[s] * b[s]);
  return total;
}

// Σ_s a[s] over n samples, in the same order as sum_of_products.
template <class T>
double sum_of(const T* a, std::size_t n) {
  double total = 0;
  std::size_t s = 0;
  if (n >= kLanes) {
    T lane[kLanes] = {};
    for (; s + kLanes <= n; s += kLanes) {
      for (std::size_t l = 0; l < kLanes; ++l) lane[l] += a[s + l];
    }
    total = fold_lanes(lane);
  }
  for (; s < n; ++s) total += static_cast<double>(a[s]);
  return total;
}

// n rounded up to whole vectors of 16 (C is a multiple of it).
constexpr std::size_t kPadding = kChunkBlock;
inline std::size_t padded_count(std::size_t n) { return (n + kPadding - 1) / kPadding * kPadding; }

// xt[i * C + s] = x[s * inputs + i]: the chunk's features, one row per input.
template <class T>
void transpose(const T* x, std::size_t n, std::size_t C, T* xt, std::size_t inputs) {
  for (std::size_t i = 0; i < inputs; ++i) {
    for (std::size_t s = 0; s < n; ++s) xt[i * C + s] = static_cast<T>(x[s * inputs + i]);
  }
}
// With the stride known, the compiler reads a sample's inputs as one group.
template <std::size_t Inputs, class T>
void transpose(const T* x, std::size_t n, std::size_t C, T* xt) {
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t i = 0; i < Inputs; ++i) xt[i * C + s] = static_cast<T>(x[s * Inputs + i]);
  }
}

// kPadding values of T as one GCC vector type, which the compiler splits into
// whole registers of any width. Written as sixteen scalars instead, the
// accumulators of block_dot stayed scalar: GCC does not vectorise sixteen
// sums carried around a loop whose length it does not know.
template <class T>
struct BlockOf;
template <>
struct BlockOf<float> {
  typedef float type __attribute__((vector_size(kPadding * sizeof(float))));
};
template <>
struct BlockOf<double> {
  typedef double type __attribute__((vector_size(kPadding * sizeof(double))));
};
template <class T>
using Block = typename BlockOf<T>::type;

template <class T>
inline Block<T> load_block(const T* p) {
  Block<T> b;
  std::memcpy(&b, p, sizeof b);
  return b;
}

// One block of kPadding samples of a product with a weight column:
// z[l] = Σ_k rows[k * stride + l] · weights[k * weight_stride], the block's
// values held in registers, so each output unit costs one pass.
template <class T>
inline Block<T> block_dot(const T* rows, std::size_t count, std::size_t stride, const T* weights,
                          std::size_t weight_stride) {
  Block<T> z = {};
  for (std::size_t k = 0; k < count; ++k) z += load_block(rows + k * stride) * weights[k * weight_stride];
  return z;
}

// a[l] = σ(z[l]) over a block. float goes through this build's native
// vectors (vector_pack.hpp), for which clamp and the scaling by 2^n are
// single instructions where the ISA has them (the same bits as the plain
// forms that a loop of floats compiles to); double calls libm per lane.
inline void store_sigmoid(const Block<float>& z, float* a) {
  Pack<Floats, kPadding / kWidth> v;
  std::memcpy(&v, &z, sizeof v);
  const auto p = sigmoid(v);
  std::memcpy(a, &p, sizeof p);
}
inline void store_sigmoid(const Block<double>& z, double* a) {
  for (std::size_t l = 0; l < kPadding; ++l) a[l] = sigmoid(z[l]);
}

template <class T>
void chunk_forward(const ChunkWeights<T>& w, const T* x, std::size_t n, const ChunkScratch<T>& scratch) {
  const std::size_t C = scratch.stride;
  T* xt = scratch.x;
  switch (w.inputs) {  // a stride the compiler knows turns the strided loads into shuffles
    case 1: transpose<1>(x, n, C, xt); break;
    case 2: transpose<2>(x, n, C, xt); break;
    case 3: transpose<3>(x, n, C, xt); break;
    case 4: transpose<4>(x, n, C, xt); break;
    default: transpose(x, n, C, xt, w.inputs);
  }
  // The element-wise loops run over whole vectors: the padding samples are
  // zeros here, finite everywhere after, and never summed.
  const std::size_t padded = padded_count(n);
  for (std::size_t i = 0; i < w.inputs; ++i) {
    for (std::size_t s = n; s < padded; ++s) xt[i * C + s] = 0;
  }
  // Z1 = X W1 + b1;  A1 = σ(Z1)
  for (std::size_t j = 0; j < w.hidden; ++j) {
    const T bj = w.b1[j];
    for (std::size_t s = 0; s < padded; s += kPadding) {
      store_sigmoid(block_dot(xt + s, w.inputs, C, w.W1 + j, w.hidden) + bj, scratch.a1 + j * C + s);
    }
  }
  // Z2 = A1 W2 + b2
  for (std::size_t o = 0; o < w.outputs; ++o) {
    const T bo = w.b2[o];
    for (std::size_t s = 0; s < padded; s += kPadding) {
      const Block<T> z = block_dot(scratch.a1 + s, w.hidden, C, w.W2 + o, w.outputs) + bo;
      std::memcpy(scratch.z2 + o * C + s, &z, sizeof z);
    }
  }
}

// The hidden layer's backward pass over a chunk (see chunk_gradients);
// Fixed, when not 0, is the padded sample count known at compile time.
template <std::size_t Fixed, class T>
void hidden_backward(const ChunkWeights<T>& w, std::size_t n, std::size_t padded_samples, const ChunkScratch<T>& scratch,
                     double* sums) {
  const std::size_t C = scratch.stride;
  const std::size_t padded = Fixed != 0 ? Fixed : padded_samples;
  const ParameterLayout at{w.inputs, w.hidden, w.outputs};
  const T* dz2 = scratch.z2;
  for (std::size_t j = 0; j < w.hidden; ++j) {
    // d = (Σ_o dZ2[o] W2[j, o]) ⊙ a ⊙ (1 - a), a pass per term so that each
    // loop vectorises. The sum starts from the first product, not from 0 +
    // it: that differs only in the sign of a zero, which no sum below can
    // tell from +0.
    T* __restrict d = scratch.dz1 + j * C;
    const T* __restrict a = scratch.a1 + j * C;
    const T* w2 = w.W2 + j * w.outputs;
    for (std::size_t s = 0; s < padded; ++s) d[s] = dz2[s] * w2[0];
    for (std::size_t o = 1; o < w.outputs; ++o) {
      const T* __restrict g = dz2 + o * C;
      for (std::size_t s = 0; s < padded; ++s) d[s] += g[s] * w2[o];
    }
    for (std::size_t s = 0; s < padded; ++s) d[s] *= a[s] * (T(1) - a[s]);
    sums[at.b1() + j] += sum_of(d, n);
    for (std::size_t i = 0; i < w.inputs; ++i) {
      sums[at.W1() + i * w.hidden + j] += sum_of_products(scratch.x + i * C, d, n);
    }
  }
}

template <class T>
void chunk_gradients(const ChunkWeights<T>& w, const T* x, const T* y, std::size_t n, T* work,
                     double* sums) {
  if constexpr (std::is_same_v<T, float>) {
    if (is_narrow(w)) return narrow_chunk_gradients(w, x, y, n, work, sums);
  }
  const ChunkScratch<T> scratch = ChunkScratch<T>::in(work, w.inputs, w.hidden, w.outputs);
  const std::size_t C = scratch.stride;
  const std::size_t padded = padded_count(n);
  const ParameterLayout at{w.inputs, w.hidden, w.outputs};
  chunk_forward(w, x, n, scratch);

  // loss = Σ bce(Z2, y);  dZ2 = A2 - y, with A2 = σ(Z2). Over whole
  // vectors too: the padding's targets are 0, its terms never summed.
  if (w.outputs == 1) {
    transpose<1>(y, n, C, scratch.y);
  } else {
    transpose(y, n, C, scratch.y, w.outputs);
  }
  T* loss_terms = scratch.loss;
  for (std::size_t o = 0; o < w.outputs; ++o) {
    T* __restrict z = scratch.z2 + o * C;
    T* __restrict target = scratch.y + o * C;
    for (std::size_t s = n; s < padded; ++s) target[s] = 0;
    for (std::size_t s = 0; s < padded; ++s) {
      T p;
      loss_terms[s] = sigmoid_and_bce(z[s], target[s], p);
      z[s] = p - target[s];
    }
    sums[at.loss()] += sum_of(loss_terms, n);
  }
  const T* dz2 = scratch.z2;

  // db2 = Σ dZ2;  dW2 = A1ᵀ dZ2
  for (std::size_t o = 0; o < w.outputs; ++o) {
    sums[at.b2() + o] += sum_of(dz2 + o * C, n);
    for (std::size_t j = 0; j < w.hidden; ++j) {
      sums[at.W2() + j * w.outputs + o] += sum_of_products(scratch.a1 + j * C, dz2 + o * C, n);
    }
  }

  // dA1 = dZ2 W2ᵀ;  dZ1 = dA1 ⊙ A1 ⊙ (1 - A1);  db1 = Σ dZ1;  dW1 = Xᵀ dZ1
  // A chunk of one vector (small data sets) gets loops of a known length.
  if (padded == kPadding) {
    hidden_backward<kPadding>(w, n, kPadding, scratch, sums);
  } else {
    hidden_backward<0>(w, n, padded, scratch, sums);
  }
}

template <class T>
std::size_t gradients_work_values(const ChunkWeights<T>& w) {
  if constexpr (std::is_same_v<T, float>) {
    if (is_narrow(w)) return narrow_work_floats(w);
  }
  return ChunkScratch<T>::size(w.inputs, w.hidden, w.outputs);
}

template <class T>
void chunk_probabilities(const ChunkWeights<T>& w, std::size_t n, const ChunkScratch<T>& scratch, double* p) {
  for (std::size_t o = 0; o < w.outputs; ++o) {
    const T* z = scratch.z2 + o * scratch.stride;
    for (std::size_t s = 0; s < n; ++s) p[s * w.outputs + o] = sigmoid(z[s]);
  }
}

#define BACKPROP_STRINGIFY_(x) #x
#define BACKPROP_STRINGIFY(x) BACKPROP_STRINGIFY_(x)

}  // namespace

ChunkKernels<float> kernels_f32() {
  return {BACKPROP_STRINGIFY(BACKPROP_CPU_ISA), chunk_forward<float>, chunk_gradients<float>,
          chunk_probabilities<float>, gradients_work_values<float>};
}
ChunkKernels<double> kernels_f64() {
  return {BACKPROP_STRINGIFY(BACKPROP_CPU_ISA), chunk_forward<double>, chunk_gradients<double>,
          chunk_probabilities<double>, gradients_work_values<double>};
}

}  // namespace backprop::cpu::BACKPROP_CPU_ISA
