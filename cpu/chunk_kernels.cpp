// One chunk of samples through the network and back: the article's forward
// and backward, fused per chunk so nothing is N x hidden. Compiled once per
// instruction set with BACKPROP_CPU_ISA naming the namespace; everything here
// has internal linkage but the two entry points, so the builds never mix.
//
// Sums over samples run in kLanes partial sums in a fixed order, then in
// double, so a chunk's result depends only on its samples.
#include <bit>
#include <cmath>
#include <cstdint>

#include "chunk_kernels.hpp"

namespace backprop::cpu::BACKPROP_CPU_ISA {
namespace {

#include "vector_math.hpp"

// Σ_s a[s] b[s] over n samples in the fixed lane order.
template <class T>
double sum_of_products(const T* a, const T* b, std::size_t n) {
  if (n < kLanes) {  // the same sum as below: the lanes would all be zero
    double total = 0;
    for (std::size_t s = 0; s < n; ++s) total += static_cast<double>(a[s] * b[s]);
    return total;
  }
  T lane[kLanes] = {};
  std::size_t s = 0;
  for (; s + kLanes <= n; s += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) lane[l] += a[s + l] * b[s + l];
  }
  double total = 0;
  for (std::size_t l = 0; l < kLanes; ++l) total += lane[l];
  for (; s < n; ++s) total += static_cast<double>(a[s] * b[s]);
  return total;
}

// Σ_s a[s] over n samples in the fixed lane order.
template <class T>
double sum_of(const T* a, std::size_t n) {
  if (n < kLanes) {  // the same sum as below: the lanes would all be zero
    double total = 0;
    for (std::size_t s = 0; s < n; ++s) total += static_cast<double>(a[s]);
    return total;
  }
  T lane[kLanes] = {};
  std::size_t s = 0;
  for (; s + kLanes <= n; s += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) lane[l] += a[s + l];
  }
  double total = 0;
  for (std::size_t l = 0; l < kLanes; ++l) total += lane[l];
  for (; s < n; ++s) total += static_cast<double>(a[s]);
  return total;
}

template <class T>
void chunk_forward(const ChunkWeights<T>& w, const float* x, std::size_t n, const ChunkScratch<T>& scratch) {
  constexpr std::size_t C = kChunkSamples;
  T* xt = scratch.x;
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t i = 0; i < w.inputs; ++i) xt[i * C + s] = static_cast<T>(x[s * w.inputs + i]);
  }
  // Z1 = X W1 + b1;  A1 = σ(Z1)
  for (std::size_t j = 0; j < w.hidden; ++j) {
    T* a = scratch.a1 + j * C;
    for (std::size_t s = 0; s < n; ++s) a[s] = 0;
    for (std::size_t i = 0; i < w.inputs; ++i) {
      const T wij = w.W1[i * w.hidden + j];
      const T* xi = xt + i * C;
      for (std::size_t s = 0; s < n; ++s) a[s] += xi[s] * wij;
    }
    const T bj = w.b1[j];
    for (std::size_t s = 0; s < n; ++s) a[s] = sigmoid(a[s] + bj);
  }
  // Z2 = A1 W2 + b2
  for (std::size_t o = 0; o < w.outputs; ++o) {
    T* z = scratch.z2 + o * C;
    for (std::size_t s = 0; s < n; ++s) z[s] = 0;
    for (std::size_t j = 0; j < w.hidden; ++j) {
      const T wjo = w.W2[j * w.outputs + o];
      const T* a = scratch.a1 + j * C;
      for (std::size_t s = 0; s < n; ++s) z[s] += a[s] * wjo;
    }
    const T bo = w.b2[o];
    for (std::size_t s = 0; s < n; ++s) z[s] += bo;
  }
}

template <class T>
void chunk_gradients(const ChunkWeights<T>& w, const float* x, const float* y, std::size_t n,
                     const ChunkScratch<T>& scratch, double* sums) {
  constexpr std::size_t C = kChunkSamples;
  const GradientLayout at{w.inputs, w.hidden, w.outputs};
  chunk_forward(w, x, n, scratch);

  // loss = Σ bce(Z2, y);  dZ2 = A2 - y, with A2 = σ(Z2)
  T loss_terms[kChunkSamples];
  for (std::size_t o = 0; o < w.outputs; ++o) {
    T* z = scratch.z2 + o * C;
    for (std::size_t s = 0; s < n; ++s) {
      const T target = static_cast<T>(y[s * w.outputs + o]);
      loss_terms[s] = bce_from_logit(z[s], target);
      z[s] = sigmoid(z[s]) - target;
    }
    sums[at.loss()] += sum_of(loss_terms, n);
  }
  const T* dz2 = scratch.z2;

  // db2 = Σ dZ2;  dW2 = A1ᵀ dZ2
  for (std::size_t o = 0; o < w.outputs; ++o) {
    sums[at.db2() + o] += sum_of(dz2 + o * C, n);
    for (std::size_t j = 0; j < w.hidden; ++j) {
      sums[at.dW2() + j * w.outputs + o] += sum_of_products(scratch.a1 + j * C, dz2 + o * C, n);
    }
  }

  // dA1 = dZ2 W2ᵀ;  dZ1 = dA1 ⊙ A1 ⊙ (1 - A1);  db1 = Σ dZ1;  dW1 = Xᵀ dZ1
  for (std::size_t j = 0; j < w.hidden; ++j) {
    T* d = scratch.dz1 + j * C;
    for (std::size_t s = 0; s < n; ++s) d[s] = 0;
    for (std::size_t o = 0; o < w.outputs; ++o) {
      const T wjo = w.W2[j * w.outputs + o];
      const T* g = dz2 + o * C;
      for (std::size_t s = 0; s < n; ++s) d[s] += g[s] * wjo;
    }
    const T* a = scratch.a1 + j * C;
    for (std::size_t s = 0; s < n; ++s) d[s] *= a[s] * (T(1) - a[s]);
    sums[at.db1() + j] += sum_of(d, n);
    for (std::size_t i = 0; i < w.inputs; ++i) {
      sums[at.dW1() + i * w.hidden + j] += sum_of_products(scratch.x + i * C, d, n);
    }
  }
}

template <class T>
void chunk_probabilities(const ChunkWeights<T>& w, std::size_t n, const ChunkScratch<T>& scratch, double* p) {
  for (std::size_t o = 0; o < w.outputs; ++o) {
    const T* z = scratch.z2 + o * kChunkSamples;
    for (std::size_t s = 0; s < n; ++s) p[s * w.outputs + o] = sigmoid(z[s]);
  }
}

#define BACKPROP_STRINGIFY_(x) #x
#define BACKPROP_STRINGIFY(x) BACKPROP_STRINGIFY_(x)

}  // namespace

ChunkKernels<float> kernels_f32() {
  return {BACKPROP_STRINGIFY(BACKPROP_CPU_ISA), chunk_forward<float>, chunk_gradients<float>,
          chunk_probabilities<float>};
}
ChunkKernels<double> kernels_f64() {
  return {BACKPROP_STRINGIFY(BACKPROP_CPU_ISA), chunk_forward<double>, chunk_gradients<double>,
          chunk_probabilities<double>};
}

}  // namespace backprop::cpu::BACKPROP_CPU_ISA
