// A data set: N samples of `inputs` float features and `outputs` targets in
// [0, 1], both row-major. Features are stored as float (12 bytes per XOR
// sample); the float64 backends widen them as they read.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace backprop {

struct Dataset {
  std::size_t inputs = 0;
  std::size_t outputs = 0;
  std::vector<float> features;  // (samples, inputs)
  std::vector<float> targets;   // (samples, outputs)

  std::size_t samples() const { return inputs == 0 ? 0 : features.size() / inputs; }

  // The article's XOR table repeated: sample i is XOR point i mod 4.
  static Dataset xor_points(std::size_t samples);

  // One sample per line: the feature columns, then `targets` target
  // columns (one output each). The first line may be a header (every cell
  // non-numeric). Every problem is reported as backprop::Error naming the
  // file and line.
  static Dataset from_csv(const std::string& path, std::size_t targets = 1);
};

// Throws backprop::Error unless the data set is non-empty, its arrays agree
// with its widths, features are finite and targets lie in [0, 1].
void validate(const Dataset& data);

}  // namespace backprop
