// The emulation's model of the one device instruction whose bits the host
// cannot reproduce: the hardware's approximate exp2 (core/activation_math.hpp).
// Every other operation of the kernels rounds on the host as on the GPU (the
// CUDA sources are built with --fmad=false).
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cuda_on_host.hpp"

namespace cuda_on_host {
namespace {

struct Ex2Model {
  Ex2Error error = Ex2Error::none;
  double ulps = 0;
  unsigned seed = 0;
} model;

// A number in [-1, 1) that is a function of y's bits and the seed alone
// (splitmix64's finaliser), as the hardware's error is a function of its
// input: the same y is moved the same way each time, on any thread.
double random_shift(float y, unsigned seed) {
  std::uint32_t bits;
  std::memcpy(&bits, &y, sizeof bits);
  std::uint64_t z = (std::uint64_t{seed} << 32 | bits) + 0x9E3779B97F4A7C15u;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1p-52 - 1.0;
}

}  // namespace

void model_ex2_error(Ex2Error error, double ulps, unsigned seed) {
  model.error = error;
  model.ulps = ulps;
  model.seed = seed;
}

// Declared in core/activation_math.hpp, which calls it in the emulation.
float ex2_approx_ftz(float y) {
  float result = exp2f(y);
  if (result < FLT_MIN) result = 0;  // .ftz: subnormal results flush to +0
  if (model.error == Ex2Error::none || !std::isfinite(result) || result == 0) return result;
  double shift = model.error == Ex2Error::low ? -1 : 1;
  if (model.error == Ex2Error::random) shift = random_shift(y, model.seed);
  // An ulp of a float in [2^e, 2^(e + 1)) is 2^(e - 23).
  const double ulp = std::ldexp(1.0, std::ilogb(result) - 23);
  return static_cast<float>(result + shift * model.ulps * ulp);
}

}  // namespace cuda_on_host
