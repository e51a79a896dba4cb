// The backend registry: list what was compiled, and make one by name.
// Backends linked into the library register through <name>_backend_entry();
// those built as modules (cuda) through a loader that opens them on first use.
#include <string>
#include <vector>

#include "backend_entry.hpp"
#include "backend_module.hpp"
#include "backprop/error.hpp"

namespace backprop {

#define BACKPROP_BACKEND(name) BackendEntry name##_backend_entry();
#define BACKPROP_BACKEND_MODULE(name, file, driver)
#include "compiled_backends.inc"
#undef BACKPROP_BACKEND
#undef BACKPROP_BACKEND_MODULE

namespace {

// In preference order: GPU backends first, the CPU reference last.
const std::vector<BackendEntry>& entries() {
  static const std::vector<BackendEntry> all = {
#define BACKPROP_BACKEND(name) name##_backend_entry(),
#define BACKPROP_BACKEND_MODULE(name, file, driver) backend_module_entry({#name, file, driver}, default_module_dirs()),
#include "compiled_backends.inc"
#undef BACKPROP_BACKEND
#undef BACKPROP_BACKEND_MODULE
  };
  return all;
}

std::string describe(const std::vector<BackendInfo>& infos) {
  std::string text;
  for (const auto& info : infos) {
    if (!text.empty()) text += ", ";
    text += info.name + (info.usable ? "" : " (unusable: " + info.reason + ")");
  }
  return text;
}

}  // namespace

std::vector<BackendInfo> list_backends() {
  std::vector<BackendInfo> infos;
  for (const auto& entry : entries()) {
    std::string reason = entry.unusable_reason();
    infos.push_back({entry.name, reason.empty(), std::move(reason)});
  }
  return infos;
}

std::unique_ptr<Backend> make_backend(std::string_view name, const BackendConfig& config) {
  // Asks only the backends it needs whether they are usable: asking cuda
  // loads its module, which a program that wants cpu should not pay for.
  for (const auto& entry : entries()) {
    if (name != "auto" && name != entry.name) continue;
    const std::string reason = entry.unusable_reason();
    if (reason.empty()) return entry.create(config);
    if (name != "auto") throw Error(ErrorKind::device, "backend '" + entry.name + "' is not usable here: " + reason);
  }
  if (name == "auto") throw Error(ErrorKind::device, "no usable backend: " + describe(list_backends()));
  // A backend of backprop's that this build left out cannot run here, as
  // one without its device cannot; any other name is a mistake.
  if (name == "cuda") {
    throw Error(ErrorKind::device, "backend 'cuda' is not in this build (it was built without a CUDA compiler); "
                                   "available: auto, " + describe(list_backends()));
  }
  throw Error(ErrorKind::usage, "unknown backend '" + std::string(name) + "'; available: auto, " + describe(list_backends()));
}

}  // namespace backprop
