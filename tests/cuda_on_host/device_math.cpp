// The emulation's model of the one device instruction whose bits the host
// cannot reproduce: the hardware's approximate exp2 (core/activation_math.hpp).
// Every other operation of the kernels rounds on the host as on the GPU (the
// CUDA sources are built with --fmad=false).
#include <cfloat>
#include <cmath>
#include <random>

#include "cuda_on_host.hpp"

namespace cuda_on_host {
namespace {

struct Ex2Model {
  Ex2Error error = Ex2Error::none;
  double ulps = 0;
  std::mt19937 random;
} model;

}  // namespace

void model_ex2_error(Ex2Error error, double ulps, unsigned seed) {
  model.error = error;
  model.ulps = ulps;
  model.random.seed(seed);
}

// Declared in core/activation_math.hpp, which calls it in the emulation.
float ex2_approx_ftz(float y) {
  float result = exp2f(y);
  if (result < FLT_MIN) result = 0;  // .ftz: subnormal results flush to +0
  if (model.error == Ex2Error::none || !std::isfinite(result) || result == 0) return result;
  double shift = model.error == Ex2Error::low ? -1 : 1;
  if (model.error == Ex2Error::random) shift = std::uniform_real_distribution<double>(-1, 1)(model.random);
  // An ulp of a float in [2^e, 2^(e + 1)) is 2^(e - 23).
  const double ulp = std::ldexp(1.0, std::ilogb(result) - 23);
  return static_cast<float>(result + shift * model.ulps * ulp);
}

}  // namespace cuda_on_host
