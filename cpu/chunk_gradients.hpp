// One chunk of samples through the network and back, the article's forward
// and backward written sample-by-sample but laid out (unit, sample) inside the
// chunk so the loops over samples vectorise. Nothing here is N x hidden: the
// working arrays hold one chunk.
//
// Sums over samples go into kLanes running partial sums in a fixed order,
// then into double, so a chunk's result depends only on its samples.
#pragma once

#include <cstddef>
#include <vector>

#include "activation_math.hpp"

namespace backprop::cpu {

constexpr std::size_t kChunkSamples = 256;  // samples per chunk: fixes the summation order
constexpr std::size_t kLanes = 16;          // partial sums per reduction, a vector register or two

template <class T>
struct Weights {
  std::size_t inputs, hidden, outputs;
  std::vector<T> W1;  // (inputs, hidden)
  std::vector<T> b1;  // (hidden)
  std::vector<T> W2;  // (hidden, outputs)
  std::vector<T> b2;  // (outputs)
};

// Where the sums over samples go, all in one flat double array so that
// adding two of them is one loop:
//   [ loss | db2 (outputs) | dW2 (hidden, outputs) | db1 (hidden) | dW1 (inputs, hidden) ]
// They are sums, not means: the caller divides by N once, as the article does.
struct GradientLayout {
  std::size_t inputs, hidden, outputs;
  std::size_t loss() const { return 0; }
  std::size_t db2() const { return 1; }
  std::size_t dW2() const { return db2() + outputs; }
  std::size_t db1() const { return dW2() + hidden * outputs; }
  std::size_t dW1() const { return db1() + hidden; }
  std::size_t size() const { return dW1() + inputs * hidden; }
};

// Per-thread working arrays for one chunk, (unit, sample) layout.
template <class T>
struct ChunkScratch {
  std::vector<T> x;    // (inputs, chunk)  the chunk's features, transposed
  std::vector<T> a1;   // (hidden, chunk)  A1 = σ(X W1 + b1)
  std::vector<T> z2;   // (outputs, chunk) Z2, then dZ2 = A2 - y
  std::vector<T> dz1;  // (hidden, chunk)  dZ1 = (dZ2 W2ᵀ) ⊙ A1 ⊙ (1 - A1)

  void reserve(std::size_t inputs, std::size_t hidden, std::size_t outputs) {
    x.resize(inputs * kChunkSamples);
    a1.resize(hidden * kChunkSamples);
    z2.resize(outputs * kChunkSamples);
    dz1.resize(hidden * kChunkSamples);
  }
};

// Σ_s a[s] b[s] over n samples in the fixed lane order.
template <class T>
double sum_of_products(const T* a, const T* b, std::size_t n) {
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

// Forward pass for n <= kChunkSamples samples starting at x (row-major
// features). Leaves A1 in scratch.a1 and Z2 in scratch.z2.
template <class T>
void chunk_forward(const Weights<T>& w, const float* x, std::size_t n, ChunkScratch<T>& scratch) {
  const std::size_t C = kChunkSamples;
  T* xt = scratch.x.data();
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t i = 0; i < w.inputs; ++i) xt[i * C + s] = static_cast<T>(x[s * w.inputs + i]);
  }
  // Z1 = X W1 + b1;  A1 = σ(Z1)
  for (std::size_t j = 0; j < w.hidden; ++j) {
    T* a = scratch.a1.data() + j * C;
    for (std::size_t s = 0; s < n; ++s) a[s] = 0;
    for (std::size_t i = 0; i < w.inputs; ++i) {
      const T wij = w.W1[i * w.hidden + j];
      const T* xi = xt + i * C;
      for (std::size_t s = 0; s < n; ++s) a[s] += xi[s] * wij;
    }
    const T bj = w.b1[j];
    for (std::size_t s = 0; s < n; ++s) a[s] = math::sigmoid(a[s] + bj);
  }
  // Z2 = A1 W2 + b2
  for (std::size_t o = 0; o < w.outputs; ++o) {
    T* z = scratch.z2.data() + o * C;
    for (std::size_t s = 0; s < n; ++s) z[s] = 0;
    for (std::size_t j = 0; j < w.hidden; ++j) {
      const T wjo = w.W2[j * w.outputs + o];
      const T* a = scratch.a1.data() + j * C;
      for (std::size_t s = 0; s < n; ++s) z[s] += a[s] * wjo;
    }
    const T bo = w.b2[o];
    for (std::size_t s = 0; s < n; ++s) z[s] += bo;
  }
}

// Forward and backward for one chunk; adds the chunk's summed loss and
// gradients into `sums` (see GradientLayout).
template <class T>
void chunk_gradients(const Weights<T>& w, const float* x, const float* y, std::size_t n,
                     ChunkScratch<T>& scratch, double* sums) {
  const std::size_t C = kChunkSamples;
  const GradientLayout at{w.inputs, w.hidden, w.outputs};
  chunk_forward(w, x, n, scratch);

  // loss = Σ bce(Z2, y);  dZ2 = A2 - y, with A2 = σ(Z2)
  T loss_terms[kChunkSamples];
  for (std::size_t o = 0; o < w.outputs; ++o) {
    T* z = scratch.z2.data() + o * C;
    for (std::size_t s = 0; s < n; ++s) {
      const T target = static_cast<T>(y[s * w.outputs + o]);
      loss_terms[s] = math::bce_from_logit(z[s], target);
      z[s] = math::bce_sigmoid_gradient(math::sigmoid(z[s]), target);
    }
    sums[at.loss()] += sum_of(loss_terms, n);
  }
  const T* dz2 = scratch.z2.data();

  // db2 = Σ dZ2;  dW2 = A1ᵀ dZ2
  for (std::size_t o = 0; o < w.outputs; ++o) {
    sums[at.db2() + o] += sum_of(dz2 + o * C, n);
    for (std::size_t j = 0; j < w.hidden; ++j) {
      sums[at.dW2() + j * w.outputs + o] += sum_of_products(scratch.a1.data() + j * C, dz2 + o * C, n);
    }
  }

  // dA1 = dZ2 W2ᵀ;  dZ1 = dA1 ⊙ A1 ⊙ (1 - A1);  db1 = Σ dZ1;  dW1 = Xᵀ dZ1
  for (std::size_t j = 0; j < w.hidden; ++j) {
    T* d = scratch.dz1.data() + j * C;
    for (std::size_t s = 0; s < n; ++s) d[s] = 0;
    for (std::size_t o = 0; o < w.outputs; ++o) {
      const T wjo = w.W2[j * w.outputs + o];
      const T* g = dz2 + o * C;
      for (std::size_t s = 0; s < n; ++s) d[s] += g[s] * wjo;
    }
    const T* a = scratch.a1.data() + j * C;
    for (std::size_t s = 0; s < n; ++s) d[s] *= math::sigmoid_derivative(a[s]);
    sums[at.db1() + j] += sum_of(d, n);
    for (std::size_t i = 0; i < w.inputs; ++i) {
      sums[at.dW1() + i * w.hidden + j] += sum_of_products(scratch.x.data() + i * C, d, n);
    }
  }
}

}  // namespace backprop::cpu
