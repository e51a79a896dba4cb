// A random data set for the tests that need one beyond the article's XOR.
#pragma once

#include <cstdint>

#include "backprop/dataset.hpp"
#include "numpy_random.hpp"

namespace backprop::testing {

// Features uniform in [-2, 2) and targets anywhere in [0, 1], from NumPy's
// legacy generator seeded with `seed`.
inline Dataset random_data(std::size_t samples, std::size_t inputs, std::uint32_t seed, std::size_t outputs = 1) {
  NumpyRandom rng(seed);
  Dataset d;
  d.inputs = inputs;
  d.outputs = outputs;
  d.features.resize(samples * inputs);
  d.targets.resize(samples * outputs);
  for (float& x : d.features) x = static_cast<float>(4 * rng.uniform() - 2);
  for (float& y : d.targets) y = static_cast<float>(rng.uniform());
  return d;
}

}  // namespace backprop::testing
