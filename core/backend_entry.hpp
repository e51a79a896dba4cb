// How a backend registers itself: a backend linked into the library defines
// one <name>_backend_entry() function; a backend built as a module hands the
// same struct over from backprop_module_entry() (backend_module.hpp). CMake
// lists the compiled ones in compiled_backends.inc, so the registry needs no
// #ifdef per backend.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "backprop/backend.hpp"

namespace backprop {

struct BackendEntry {
  std::string name;
  // Empty when the backend can run here, else why it cannot (CUDA's reason).
  std::function<std::string()> unusable_reason;
  std::function<std::unique_ptr<Backend>(const BackendConfig&)> create;
};

}  // namespace backprop
