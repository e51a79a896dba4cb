// Reads the golden files written by scripts/numpy_reference.py: one
// "key value value ..." line per field, '#' lines ignored.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "backprop/dataset.hpp"
#include "numpy_random.hpp"

namespace backprop::testing {

inline std::string data_path(const std::string& name) { return std::string(BACKPROP_TEST_DATA_DIR) + "/" + name; }

struct GoldenFile {
  std::map<std::string, std::vector<std::string>> fields;

  explicit GoldenFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open golden file " + path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream words(line);
      std::string key, word;
      words >> key;
      auto& values = fields[key];
      while (words >> word) values.push_back(word);
    }
  }

  const std::vector<std::string>& words(const std::string& key) const {
    const auto it = fields.find(key);
    if (it == fields.end()) throw std::runtime_error("golden file has no field " + key);
    return it->second;
  }
  std::vector<double> numbers(const std::string& key) const {
    std::vector<double> values;
    for (const auto& w : words(key)) values.push_back(std::strtod(w.c_str(), nullptr));
    return values;
  }
  double number(const std::string& key) const { return numbers(key).at(0); }
};

// The golden "quadrant" data: float32 normals from NumPy's legacy generator,
// labelled 1 where x0 * x1 > 0 (scripts/numpy_reference.py, quadrant_data).
inline Dataset quadrant_data(std::size_t samples, std::size_t inputs, std::uint32_t seed) {
  NumpyRandom rng(seed);
  Dataset d;
  d.inputs = inputs;
  d.outputs = 1;
  d.features.resize(samples * inputs);
  for (float& x : d.features) x = static_cast<float>(rng.normal());
  for (std::size_t s = 0; s < samples; ++s) {
    d.targets.push_back(d.features[s * inputs] * d.features[s * inputs + 1] > 0 ? 1.0f : 0.0f);
  }
  return d;
}

// The data set a golden file names on its "data" line.
inline Dataset golden_data(const GoldenFile& g) {
  const auto& d = g.words("data");
  if (d.at(0) == "xor") return Dataset::xor_points(std::stoul(d.at(1)));
  return quadrant_data(std::stoul(d.at(1)), std::stoul(d.at(2)), static_cast<std::uint32_t>(std::stoul(d.at(3))));
}

}  // namespace backprop::testing
