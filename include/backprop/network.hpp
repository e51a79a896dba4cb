// The network: inputs -> sigmoid hidden layer -> sigmoid outputs, and its
// parameters. Parameters live on the host in double precision; a backend
// converts them to its working precision when training starts and back when
// it hands them out, so float32 parameters round-trip exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "backprop/optimizer.hpp"

namespace backprop {

struct Shape {
  std::size_t inputs = 2;
  std::size_t hidden = 4;
  std::size_t outputs = 1;

  friend bool operator==(const Shape& a, const Shape& b) {
    return a.inputs == b.inputs && a.hidden == b.hidden && a.outputs == b.outputs;
  }
};

// "inputs-hidden-outputs", as messages and the command line name a shape: "2-4-1".
std::string to_string(const Shape& shape);

// Throws backprop::Error unless every width is between 1 and 2^31 - 1 (int,
// as cuBLAS takes it).
void validate(const Shape& shape);

struct Parameters {
  Shape shape;
  std::vector<double> W1;  // (inputs, hidden), row-major
  std::vector<double> b1;  // (hidden)
  std::vector<double> W2;  // (hidden, outputs), row-major
  std::vector<double> b2;  // (outputs)

  // Zero-filled parameters of the given shape.
  static Parameters zeros(const Shape& shape);

  // As CSV: the line "parameter,row,column,value", then one line per value
  // of W1 (inputs x hidden), b1 (row 0), W2 (hidden x outputs) and b2
  // (row 0), such as "W1,1,3,-0.25", each printed so that it reads back to
  // the same double. With `state`, a checkpoint: also the lines "step,0,0,S",
  // "epoch,0,0,E" and "shuffle_seed,0,0,K" and the state's arrays as torch.optim names them,
  // shaped like the parameters ("exp_avg.W1,1,3,0.01", "exp_avg_sq.b2,...",
  // "momentum_buffer.W2,...", "square_avg.b1,...").
  void write_csv(std::ostream& out, const OptimizerState* state = nullptr) const;

  // What write_csv writes, its lines in any order; the shape comes from the
  // indices. Throws backprop::Error naming the file and line for a damaged
  // file: an unknown parameter, a bad index or value, a value given twice or
  // missing. A checkpoint's state goes to `state` where it is given (steps
  // and epochs 0 and no arrays for a file without one); else it is checked
  // and left.
  static Parameters from_csv(const std::string& path, OptimizerState* state = nullptr);
};

// Throws backprop::Error unless the four arrays have the sizes the shape says
// and every value is finite.
void validate(const Parameters& params);

enum class Initialisation {
  numpy,   // the article: np.random.seed(s); W = randn(...) * 0.1; biases 0
  xavier,  // Glorot uniform: W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out))
};

// Parameters drawn the way the article draws them, bit for bit equal to
// NumPy's legacy generator for the same seed (W1 first, then W2, one stream).
Parameters init_numpy(const Shape& shape, std::uint32_t seed);

// Glorot/Xavier uniform weights, zero biases; better scaled for wide layers.
Parameters init_xavier(const Shape& shape, std::uint32_t seed);

Parameters initialise(Initialisation kind, const Shape& shape, std::uint32_t seed);

}  // namespace backprop
