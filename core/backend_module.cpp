// Loading a backend module on first use; see backend_module.hpp for why.
#include "backend_module.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>

#include "backprop/error.hpp"

namespace backprop {
namespace {

std::string dl_error() {
  const char* text = dlerror();
  return text ? text : "unknown error";
}

// What one module's entry knows after its first use. A loaded module is never
// unloaded: backends and sessions it made may live until the program exits,
// and the CUDA runtime inside it is not meant to be torn down mid-process.
struct ModuleState {
  std::once_flag once;
  BackendEntry entry;   // the module's own, when loaded
  std::string failure;  // why it could not be loaded; empty when it was
};

// Opens `path` and fills `entry` from it; returns why not otherwise.
std::string open_module(const std::string& path, const std::string& backend, BackendEntry& entry) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return "cannot load " + path + " (" + dl_error() + ")";
  using AbiFunction = const char* (*)();
  using EntryFunction = void (*)(BackendEntry*);
  const auto abi = reinterpret_cast<AbiFunction>(dlsym(handle, "backprop_module_abi"));
  const auto fill = reinterpret_cast<EntryFunction>(dlsym(handle, "backprop_module_entry"));
  std::string problem;
  if (abi == nullptr || fill == nullptr) {
    problem = path + " is not a backprop module (it exports no backprop_module_abi or backprop_module_entry)";
  } else if (std::strcmp(abi(), BACKPROP_MODULE_ABI) != 0) {
    problem = path + " was built with another version of backprop (its key " + abi() + ", ours " +
              BACKPROP_MODULE_ABI + ")";
  } else {
    fill(&entry);
    if (entry.name == backend) return {};
    problem = path + " holds backend '" + entry.name + "', not '" + backend + "'";
    entry = {};
  }
  dlclose(handle);
  return problem;
}

std::string load_module(const BackendModuleSpec& spec, const std::vector<std::string>& dirs,
                        BackendEntry& entry) {
  if (!spec.driver.empty()) {
    // Trying the driver first costs little and spares a machine without it
    // the module's libraries (cuBLAS: ~150 MiB) just to learn the same thing.
    void* driver = dlopen(spec.driver.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (driver == nullptr) return "its driver cannot be loaded: " + dl_error();
    dlclose(driver);
  }
  std::string missing_in, problems;
  for (const auto& dir : dirs) {
    const std::string path = (std::filesystem::path(dir) / spec.file).string();
    std::error_code ignored;
    if (!std::filesystem::exists(path, ignored)) {
      missing_in += (missing_in.empty() ? "" : ", ") + dir;
      continue;
    }
    // A stale or broken copy earlier in the search does not hide a good one later.
    std::string problem = open_module(path, spec.backend, entry);
    if (problem.empty()) return {};
    problems += (problems.empty() ? "" : "; ") + problem;
  }
  std::string reason = problems;
  if (!missing_in.empty()) {
    reason += (reason.empty() ? "" : "; ") + spec.file + " is not in " + missing_in;
  }
  if (dirs.empty()) reason = "no directory to look for " + spec.file + " in";
  return reason + " (set BACKPROP_MODULE_PATH to the directory that holds it)";
}

}  // namespace

BackendEntry backend_module_entry(BackendModuleSpec spec, std::vector<std::string> dirs) {
  auto state = std::make_shared<ModuleState>();
  auto loaded = [state, spec, dirs = std::move(dirs)]() -> const ModuleState& {
    std::call_once(state->once, [&] { state->failure = load_module(spec, dirs, state->entry); });
    return *state;
  };
  BackendEntry entry;
  entry.name = spec.backend;
  entry.unusable_reason = [loaded] {
    const ModuleState& module = loaded();
    return module.failure.empty() ? module.entry.unusable_reason() : module.failure;
  };
  entry.create = [loaded, backend = spec.backend](const BackendConfig& config) {
    const ModuleState& module = loaded();
    if (!module.failure.empty()) throw Error(ErrorKind::device, "backend '" + backend + "' cannot be loaded: " + module.failure);
    return module.entry.create(config);
  };
  return entry;
}

std::vector<std::string> default_module_dirs() {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("BACKPROP_MODULE_PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) dirs.emplace_back(dir);
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
  }
  std::error_code failed;
  const auto program = std::filesystem::read_symlink("/proc/self/exe", failed);
  if (!failed) dirs.push_back(program.parent_path().string());
  for (const char* dir : {BACKPROP_MODULE_INSTALL_DIR, BACKPROP_MODULE_BUILD_DIR}) {
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.emplace_back(dir);
  }
  return dirs;
}

}  // namespace backprop
