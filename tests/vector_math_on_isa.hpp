// vector_math.hpp's functions run on one CPU build's widest vectors
// (vector_math_on_isa.cpp, compiled once per instruction-set build).
#pragma once

#include <vector>

namespace backprop::testing {

struct VectorMathLanes {
  std::vector<float> exp, sigmoid, probability, loss;
};

}  // namespace backprop::testing
