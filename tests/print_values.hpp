// How GoogleTest prints the library's value types, in failure messages and
// in the names of parameterised tests ("2-4-1", "f32"), instead of their
// bytes.
#pragma once

#include <ostream>

#include "backprop/backend.hpp"
#include "backprop/network.hpp"

namespace backprop {

inline void PrintTo(const Shape& shape, std::ostream* os) { *os << to_string(shape); }

inline void PrintTo(Precision precision, std::ostream* os) { *os << to_string(precision); }

}  // namespace backprop
