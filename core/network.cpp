// Shapes, parameter containers and the two initialisations.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/network.hpp"
#include "host_memory.hpp"
#include "numpy_random.hpp"

namespace backprop {

// cuBLAS and the CUDA kernels take widths as int; below this bound the
// parameter counts (products of two widths) cannot overflow either.
constexpr std::size_t kMaxWidth = std::numeric_limits<int>::max();

std::string to_string(const Shape& shape) {
  return std::to_string(shape.inputs) + "-" + std::to_string(shape.hidden) + "-" + std::to_string(shape.outputs);
}

void validate(const Shape& shape) {
  if (shape.inputs == 0 || shape.hidden == 0 || shape.outputs == 0) {
    throw Error(ErrorKind::usage, "network shape " + to_string(shape) + " is invalid: inputs, hidden and outputs must each be at least 1");
  }
  if (shape.inputs > kMaxWidth || shape.hidden > kMaxWidth || shape.outputs > kMaxWidth) {
    throw Error(ErrorKind::usage, "network shape " + to_string(shape) + " is too large: inputs, hidden and outputs must each be at most " +
                std::to_string(kMaxWidth));
  }
  // Each product fits a size_t below kMaxWidth; their sum, as doubles, may not fit an array.
  const double count = static_cast<double>(shape.inputs) * static_cast<double>(shape.hidden) +
                       static_cast<double>(shape.hidden) * static_cast<double>(shape.outputs) +
                       static_cast<double>(shape.hidden + shape.outputs);
  if (count > static_cast<double>(std::vector<double>().max_size())) {
    throw Error(ErrorKind::usage, "network shape " + to_string(shape) + " has " + std::to_string(count) +
                                      " parameters, more than an array can hold");
  }
}

Parameters Parameters::zeros(const Shape& shape) {
  validate(shape);
  require_host_memory(8.0 * (static_cast<double>(shape.inputs) * static_cast<double>(shape.hidden) +
                             static_cast<double>(shape.hidden) * static_cast<double>(shape.outputs)),
                      "the parameters of a " + to_string(shape) + " network");
  Parameters p;
  p.shape = shape;
  p.W1.assign(shape.inputs * shape.hidden, 0.0);
  p.b1.assign(shape.hidden, 0.0);
  p.W2.assign(shape.hidden * shape.outputs, 0.0);
  p.b2.assign(shape.outputs, 0.0);
  return p;
}

namespace {

void check_array(const char* name, const std::vector<double>& values, std::size_t expected) {
  if (values.size() != expected) {
    throw Error(ErrorKind::usage, std::string("parameter ") + name + " has " + std::to_string(values.size()) +
                " values; the shape needs " + std::to_string(expected));
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw Error(ErrorKind::usage, std::string("parameter ") + name + "[" + std::to_string(i) + "] is not finite");
    }
  }
}

}  // namespace

void validate(const Parameters& p) {
  validate(p.shape);
  check_array("W1", p.W1, p.shape.inputs * p.shape.hidden);
  check_array("b1", p.b1, p.shape.hidden);
  check_array("W2", p.W2, p.shape.hidden * p.shape.outputs);
  check_array("b2", p.b2, p.shape.outputs);
}

Parameters init_numpy(const Shape& shape, std::uint32_t seed) {
  Parameters p = Parameters::zeros(shape);
  NumpyRandom rng(seed);
  // W1 = randn(inputs, hidden) * 0.1, then W2 = randn(hidden, outputs) * 0.1,
  // from one stream: a normal cached after W1 is W2's first value.
  for (double& w : p.W1) w = rng.normal() * 0.1;
  for (double& w : p.W2) w = rng.normal() * 0.1;
  return p;
}

Parameters init_xavier(const Shape& shape, std::uint32_t seed) {
  Parameters p = Parameters::zeros(shape);
  NumpyRandom rng(seed);
  auto fill = [&rng](std::vector<double>& w, std::size_t fan_in, std::size_t fan_out) {
    const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    for (double& v : w) v = (2.0 * rng.uniform() - 1.0) * a;
  };
  fill(p.W1, shape.inputs, shape.hidden);
  fill(p.W2, shape.hidden, shape.outputs);
  return p;
}

Parameters initialise(Initialisation kind, const Shape& shape, std::uint32_t seed) {
  switch (kind) {
    case Initialisation::numpy: return init_numpy(shape, seed);
    case Initialisation::xavier: return init_xavier(shape, seed);
  }
  throw Error(ErrorKind::usage, "unknown initialisation");
}

}  // namespace backprop
