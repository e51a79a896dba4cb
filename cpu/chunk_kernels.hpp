// The per-chunk work of the CPU backend, built once per instruction set
// (generic x86-64, AVX2, AVX-512 where the compiler has them) and chosen at
// run time. Every build computes the same bits: the summation order is fixed
// by chunk_samples() and kLanes, not by the vector width.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "parameter_layout.hpp"

namespace backprop::cpu {

// A chunk's working arrays take at most this (or those of kChunkBlock
// samples, if more), so that a thread's memory stays bounded however wide
// the network is.
constexpr std::size_t kMaxChunkBytes = std::size_t{32} << 20;
// The general kernels work on blocks of this many samples, so a chunk holds
// a whole number of them.
constexpr std::size_t kChunkBlock = 16;

// Samples per chunk: a power of two near 16384 / hidden, from 256 to 4096,
// so that a chunk's working arrays stay in the L2 cache while narrow layers
// amortise the per-chunk sums; halved, down to kChunkBlock, while the
// arrays of ChunkScratch (inputs + 2 hidden + 2 outputs + 1 values a
// sample, counted as doubles whatever the precision) would pass
// kMaxChunkBytes. It depends on the shape alone, and with N it fixes the
// summation order.
inline std::size_t chunk_samples(std::size_t inputs, std::size_t hidden, std::size_t outputs) {
  std::size_t samples = 4096;
  while (samples > 256 && samples * hidden > 16384) samples /= 2;
  const std::size_t bytes_per_sample = (inputs + 2 * hidden + 2 * outputs + 1) * sizeof(double);
  while (samples > kChunkBlock && samples * bytes_per_sample > kMaxChunkBytes) samples /= 2;
  return samples;
}
constexpr std::size_t kLanes = 64;          // partial sums per reduction: four AVX-512 registers,
                                            // enough to hide the adds' latency

// A chunk's sums go where ParameterLayout puts them: the gradient's
// components, then the loss, at sums(). They are sums, not means: the
// session divides by N once, as the article does.

template <class T>
struct ChunkWeights {
  std::size_t inputs, hidden, outputs;
  const T* W1;  // (inputs, hidden)
  const T* b1;  // (hidden)
  const T* W2;  // (hidden, outputs)
  const T* b2;  // (outputs)
};

// One thread's working arrays for a chunk of C = chunk_samples(shape)
// samples, (unit, sample) layout so that the loops over samples vectorise.
template <class T>
struct ChunkScratch {
  std::size_t stride;  // C
  T* x;     // (inputs, C)  the chunk's features, transposed
  T* a1;    // (hidden, C)  A1 = σ(X W1 + b1)
  T* z2;    // (outputs, C) Z2, then dZ2 = A2 - y
  T* dz1;   // (hidden, C)  dZ1 = (dZ2 W2ᵀ) ⊙ A1 ⊙ (1 - A1)
  T* y;     // (outputs, C) the chunk's targets, transposed
  T* loss;  // (C)          each sample's loss

  // Values per worker for this shape.
  static std::size_t size(std::size_t inputs, std::size_t hidden, std::size_t outputs) {
    return (inputs + 2 * hidden + 2 * outputs + 1) * chunk_samples(inputs, hidden, outputs);
  }
  // Lays the arrays out in `base`, which holds size(...) values.
  static ChunkScratch in(T* base, std::size_t inputs, std::size_t hidden, std::size_t outputs) {
    const std::size_t C = chunk_samples(inputs, hidden, outputs);
    T* a1 = base + inputs * C;
    T* z2 = a1 + hidden * C;
    T* dz1 = z2 + outputs * C;
    T* y = dz1 + hidden * C;
    return {C, base, a1, z2, dz1, y, y + outputs * C};
  }
};

template <class T>
struct ChunkKernels {
  const char* isa;
  // Forward pass of n <= C samples; leaves A1 and Z2 in scratch.
  // x, y: the chunk's features and targets in the working precision (the
  // f64 sessions widen float data, or read a file's doubles).
  void (*forward)(const ChunkWeights<T>& w, const T* x, std::size_t n, const ChunkScratch<T>& scratch);
  // Forward and backward; adds the chunk's summed loss and gradients to sums.
  // work: gradients_work_values(w) values from a 64-byte boundary.
  void (*gradients)(const ChunkWeights<T>& w, const T* x, const T* y, std::size_t n, T* work,
                    double* sums);
  // p = σ(Z2) for the chunk, after forward.
  void (*probabilities)(const ChunkWeights<T>& w, std::size_t n, const ChunkScratch<T>& scratch, double* p);
  // The working memory gradients needs for this shape, in values of T: a
  // ChunkScratch's for the general kernels, less or none for the narrow ones.
  std::size_t (*gradients_work_values)(const ChunkWeights<T>& w);
};

// The instruction sets built in and runnable here, best first ("avx512",
// "avx2", "generic").
std::vector<std::string> runnable_isas();

// The kernels for `isa`, or for the best runnable one when isa is empty.
// The environment variable BACKPROP_CPU_ISA picks one by name.
template <class T>
ChunkKernels<T> chunk_kernels(const std::string& isa = {});

}  // namespace backprop::cpu
