// Picks the chunk kernels for the processor at run time. CMake lists the
// instruction-set builds in cpu_isas.inc, best first:
//   BACKPROP_CPU_ISA_BUILD(name, "cpu feature" or nullptr for the baseline)
#include <cstdlib>

#include "backprop/error.hpp"
#include "chunk_kernels.hpp"

namespace backprop::cpu {

#define BACKPROP_CPU_ISA_BUILD(name, feature) \
  namespace name {                            \
  ChunkKernels<float> kernels_f32();          \
  ChunkKernels<double> kernels_f64();         \
  }
#include "cpu_isas.inc"
#undef BACKPROP_CPU_ISA_BUILD

namespace {

struct IsaBuild {
  const char* name;
  const char* feature;
  ChunkKernels<float> (*f32)();
  ChunkKernels<double> (*f64)();
};

const IsaBuild kBuilds[] = {
#define BACKPROP_CPU_ISA_BUILD(name, feature) {#name, feature, name::kernels_f32, name::kernels_f64},
#include "cpu_isas.inc"
#undef BACKPROP_CPU_ISA_BUILD
};

bool runnable(const IsaBuild& build) {
#if defined(__x86_64__) || defined(__i386__)
  if (build.feature == nullptr) return true;
  __builtin_cpu_init();
  // Both vector builds also use FMA instructions (-mfma).
  if (!__builtin_cpu_supports("fma")) return false;
  if (std::string(build.feature) == "avx512f") return __builtin_cpu_supports("avx512f");
  if (std::string(build.feature) == "avx2") return __builtin_cpu_supports("avx2");
  return false;
#else
  return build.feature == nullptr;
#endif
}

const IsaBuild& pick(std::string isa) {
  if (isa.empty()) {
    if (const char* env = std::getenv("BACKPROP_CPU_ISA")) isa = env;
  }
  for (const auto& build : kBuilds) {
    if (!runnable(build)) continue;
    if (isa.empty() || isa == build.name) return build;
  }
  std::string names;
  for (const auto& name : runnable_isas()) names += (names.empty() ? "" : ", ") + name;
  throw Error(ErrorKind::usage, "CPU instruction set '" + isa + "' is not built in or not supported here; runnable: " + names);
}

}  // namespace

std::vector<std::string> runnable_isas() {
  std::vector<std::string> names;
  for (const auto& build : kBuilds) {
    if (runnable(build)) names.emplace_back(build.name);
  }
  return names;
}

template <>
ChunkKernels<float> chunk_kernels<float>(const std::string& isa) {
  return pick(isa).f32();
}
template <>
ChunkKernels<double> chunk_kernels<double>(const std::string& isa) {
  return pick(isa).f64();
}

}  // namespace backprop::cpu
