// backprop::Error: the one exception type the library throws for bad input,
// unusable backends and failures inside a backend (CUDA and cuBLAS, threads
// that cannot start). Host memory running out stays std::bad_alloc.
//
// Each error has a kind, so that a caller (the command line's exit status,
// the benchmarks' skipped rows) tells them apart without reading the text.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace backprop {

enum class ErrorKind {
  usage,          // an argument out of range or of the wrong form
  data,           // a data set or saved network that is malformed, or does not fit the other
  io,             // a file that cannot be opened, read or written
  device,         // a backend that cannot run here, or failed while running
  out_of_memory,  // device memory, or a run that would not fit in memory, refused up front
  diverged,       // a loss or a parameter that is not finite
  interrupted,    // stopped by the caller (the command line: SIGINT or SIGTERM)
};

// "usage", "data", "io", "device", "out of memory", "diverged", "interrupted".
std::string_view to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}

  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace backprop
