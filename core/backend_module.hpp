// Backends built as shared modules, loaded on first use.
//
// The CUDA backend lives in libbackprop-cuda.so rather than in the static
// library, because loading cuBLAS costs a process ~150 MiB and a fraction of
// a second whether or not it ever trains on the GPU, and a program linked
// against it would not even start on a machine without the CUDA libraries.
// Programs that train on the CPU now never load them; the module is opened
// the first time someone asks whether the backend is usable.
//
// A module exports two C functions (see BACKPROP_MODULE_EXPORTS below):
//   const char* backprop_module_abi();            the key it was built with
//   void backprop_module_entry(BackendEntry*);   fills in its registry entry
// It is loaded only when its key equals the library's: both are compiled
// from the same headers with the same compiler, so C++ objects (the entry,
// backends, sessions, backprop::Error) can cross between them.
#pragma once

#include <string>
#include <vector>

#include "backend_entry.hpp"
#include "backend_module_config.hpp"  // generated: the module key and directories

namespace backprop {

struct BackendModuleSpec {
  std::string backend;  // the registry name, "cuda"
  std::string file;     // "libbackprop-cuda.so"
  // A system library the backend cannot run without ("libcuda.so.1", the
  // NVIDIA driver), tried before the module: without it the answer is "not
  // usable" at no cost. Empty when there is none.
  std::string driver;
};

// A registry entry whose first use loads the module and hands over to the
// module's own entry. If the module or its driver cannot be loaded, the
// backend is unusable and the reason says what was tried and why it failed.
// The module is looked for in each of `dirs`, in order.
BackendEntry backend_module_entry(BackendModuleSpec spec, std::vector<std::string> dirs);

// Where modules are looked for, in order: the directories in the
// environment variable BACKPROP_MODULE_PATH (separated by ':'), the running
// program's own directory, the library directory this build installs to,
// and this build's own directory (so tests and uninstalled programs find it).
std::vector<std::string> default_module_dirs();

}  // namespace backprop

// What a module's source writes once to export its entry.
#define BACKPROP_MODULE_EXPORTS(make_entry)                                                     \
  extern "C" __attribute__((visibility("default"))) const char* backprop_module_abi() {         \
    return BACKPROP_MODULE_ABI;                                                                 \
  }                                                                                             \
  extern "C" __attribute__((visibility("default"))) void backprop_module_entry(                 \
      ::backprop::BackendEntry* entry) {                                                        \
    *entry = make_entry();                                                                      \
  }
