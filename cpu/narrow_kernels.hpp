// The training step of a narrow network in one pass over the data, every
// intermediate value in registers. Built per instruction set next to
// chunk_kernels.cpp (the same BACKPROP_CPU_ISA namespace), and called by it
// for the shapes it handles.
#pragma once

#include <cstddef>

#include "chunk_kernels.hpp"

namespace backprop::cpu::BACKPROP_CPU_ISA {

// One output, at most 4 inputs and 32 hidden units. Up to 8 hidden units a
// block's activations, deltas and partial sums fit in the vector registers;
// up to 32 they spill to the L1 cache, still far cheaper than the general
// kernels' passes over (unit, sample) arrays.
inline bool is_narrow(const ChunkWeights<float>& w) {
  return w.outputs == 1 && w.inputs >= 1 && w.inputs <= 4 && w.hidden <= 32;
}

// What ChunkKernels::gradients does, for a narrow shape in float: adds the
// summed loss and gradients of n samples to sums (GradientLayout order).
void narrow_chunk_gradients(const ChunkWeights<float>& w, const float* x, const float* y, std::size_t n,
                            double* sums);

}  // namespace backprop::cpu::BACKPROP_CPU_ISA
