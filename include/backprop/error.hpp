// backprop::Error: the one exception type the library throws for bad input,
// unusable backends and failures inside a backend (CUDA and cuBLAS, threads
// that cannot start). Host memory running out stays std::bad_alloc.
#pragma once

#include <stdexcept>
#include <string>

namespace backprop {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace backprop
