// vector_math.hpp's functions run on one CPU build's widest vectors
// (vector_math_on_isa.cpp, compiled once per instruction-set build).
#pragma once

#include <vector>

namespace backprop::testing {

struct VectorMathLanes {
  std::vector<float> exp, exp2, sigmoid, sigmoid_of_base2, probability, loss;
};

}  // namespace backprop::testing
