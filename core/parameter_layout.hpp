// The one layout of a network's parameters, and of everything shaped like
// them: gradients, an optimizer's state, a step's sums. One flat array,
//   [ W1 (inputs, hidden) | b1 (hidden) | W2 (hidden, outputs) | b2 (outputs) ]
// each matrix row-major, in this order; a step's sums add the loss after
// them, at loss(). Every backend keeps its parameters so (the CPU in a
// vector, the GPU in one device buffer), so one loop over count() values
// updates them all. Host- and device-callable (BACKPROP_HOST_DEVICE).
#pragma once

#include <cstddef>

#include "activation_math.hpp"  // BACKPROP_HOST_DEVICE

namespace backprop {

struct ParameterLayout {
  std::size_t inputs, hidden, outputs;

  BACKPROP_HOST_DEVICE constexpr std::size_t W1() const { return 0; }
  BACKPROP_HOST_DEVICE constexpr std::size_t b1() const { return inputs * hidden; }
  BACKPROP_HOST_DEVICE constexpr std::size_t W2() const { return b1() + hidden; }
  BACKPROP_HOST_DEVICE constexpr std::size_t b2() const { return W2() + hidden * outputs; }
  BACKPROP_HOST_DEVICE constexpr std::size_t count() const { return b2() + outputs; }  // parameters
  // A step's sums: the gradient's components, then the loss.
  BACKPROP_HOST_DEVICE constexpr std::size_t loss() const { return count(); }
  BACKPROP_HOST_DEVICE constexpr std::size_t sums() const { return count() + 1; }
};

}  // namespace backprop
