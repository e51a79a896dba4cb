// The training step of a narrow network (one output, few inputs) in one
// pass over the data, each block of samples forward and back before the
// next, nothing stored per sample. Built per instruction set next to
// chunk_kernels.cpp (the same BACKPROP_CPU_ISA namespace), and called by it
// for the shapes it handles.
#pragma once

#include <cstddef>

#include "chunk_kernels.hpp"

namespace backprop::cpu::BACKPROP_CPU_ISA {

// One output, at most 4 inputs and kMaxNarrowHidden hidden units. Up to 8
// hidden units a block's activations, deltas and partial sums fit in the
// vector registers; up to kStackHidden they spill to the stack, in the L1
// cache; above, to a work area that the caller provides (half a MiB at 1024
// hidden units, too much for a thread's stack). Even at 1024 this streams
// through memory less than the general kernels' passes over (unit, sample)
// arrays, and runs about 1.6 times as fast.
constexpr std::size_t kMaxNarrowHidden = 1024;
constexpr std::size_t kStackHidden = 32;

inline bool is_narrow(const ChunkWeights<float>& w) {
  return w.outputs == 1 && w.inputs >= 1 && w.inputs <= 4 && w.hidden <= kMaxNarrowHidden;
}

// The floats of work area that narrow_chunk_gradients needs for a narrow
// shape (0 up to kStackHidden hidden units).
std::size_t narrow_work_floats(const ChunkWeights<float>& w);

// What ChunkKernels::gradients does, for a narrow shape in float: adds the
// summed loss and gradients of n samples to sums (ParameterLayout's sums).
// work: narrow_work_floats(w) floats from a 64-byte boundary.
void narrow_chunk_gradients(const ChunkWeights<float>& w, const float* x, const float* y, std::size_t n,
                            float* work, double* sums);

}  // namespace backprop::cpu::BACKPROP_CPU_ISA
