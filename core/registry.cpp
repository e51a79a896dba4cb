// The backend registry: list what was compiled, and make one by name.
#include <string>
#include <vector>

#include "backend_entry.hpp"
#include "backprop/error.hpp"

namespace backprop {

#define BACKPROP_BACKEND(name) BackendEntry name##_backend_entry();
#include "compiled_backends.inc"
#undef BACKPROP_BACKEND

namespace {

// In preference order: GPU backends first, the CPU reference last.
const std::vector<BackendEntry>& entries() {
  static const std::vector<BackendEntry> all = {
#define BACKPROP_BACKEND(name) name##_backend_entry(),
#include "compiled_backends.inc"
#undef BACKPROP_BACKEND
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
  const auto infos = list_backends();
  const auto& all = entries();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const bool wanted = name == "auto" ? infos[i].usable : name == all[i].name;
    if (!wanted) continue;
    if (!infos[i].usable) {
      throw Error("backend '" + all[i].name + "' is not usable here: " + infos[i].reason);
    }
    return all[i].create(config);
  }
  throw Error("unknown backend '" + std::string(name) + "'; available: auto, " +
              describe(infos));
}

}  // namespace backprop
