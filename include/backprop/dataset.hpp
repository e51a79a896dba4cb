// A data set: N samples of `inputs` float features and `outputs` targets in
// [0, 1], both row-major. Features are stored as float (12 bytes per XOR
// sample). A file read for float64 also keeps its own values in double,
// which the f64 sessions train on; without them, they widen the floats.
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
  // The same values before their rounding to float, where from_csv kept them
  // (keep_f64); empty otherwise.
  std::vector<double> features_f64;  // (samples, inputs)
  std::vector<double> targets_f64;   // (samples, outputs)

  std::size_t samples() const { return inputs == 0 ? 0 : features.size() / inputs; }

  // The article's XOR table repeated: sample i is XOR point i mod 4.
  static Dataset xor_points(std::size_t samples);

  // One sample per line: the feature columns, then `targets` target
  // columns (one output each). The first line may be a header (every cell
  // non-numeric). Every problem is reported as backprop::Error naming the
  // file and line. keep_f64: the values in double too (features_f64,
  // targets_f64), for float64 training on the file's own numbers.
  static Dataset from_csv(const std::string& path, std::size_t targets = 1, bool keep_f64 = false);

  // Whether the double values are kept.
  bool has_f64() const { return !features_f64.empty(); }
};

// Throws backprop::Error unless the data set is non-empty, its arrays agree
// with its widths (the double ones too, where kept), features are finite and
// targets lie in [0, 1].
void validate(const Dataset& data);

}  // namespace backprop
