// Mini-batches: how an epoch cuts the data set into steps. By default an
// epoch is one step over the whole data set, in file order (the article).
#pragma once

#include <cstddef>
#include <cstdint>

namespace backprop {

struct Batches {
  // Samples per step; 0, or at least the data set's size, is one step over
  // the whole data set. The last batch of an epoch is smaller when the
  // size does not divide N. Each step's gradient is the mean over its batch.
  std::size_t size = 0;
  // With batches smaller than the data set: epoch e visits the samples in
  // the e-th permutation drawn in sequence from NumPy's
  // np.random.RandomState(seed), permutation(N); else in file order. A
  // whole-data-set batch is always in file order.
  bool shuffle = true;
  std::uint32_t seed = 42;
};

}  // namespace backprop
