// Finishing the per-block partial sums: one block per column adds that
// column's partials in a fixed order (strided per thread, then a fixed tree)
// in double. No atomics, so the result is the same bits on every run.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace backprop::cuda {

constexpr int kReduceBlock = 256;

// sums[c] = (first ? 0 : sums[c]) + Σ_b partials[b * columns + c], and
// then, where `rounded` is given, rounded[c] = T(sums[c]).
// partials: (count, columns); sums, rounded: (columns)
template <class T>
void reduce_partials(const T* partials, std::size_t count, int columns, double* sums, bool first, T* rounded,
                     cudaStream_t stream);

}  // namespace backprop::cuda
