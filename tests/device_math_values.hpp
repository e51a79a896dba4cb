// The scalar math of the CUDA kernels (core/activation_math.hpp) on one
// input, as one function that the GPU test (test_cuda_device_math.cpp) runs
// in a kernel and on the host: what it computes both ways must agree.
#pragma once

#include "activation_math.hpp"

namespace backprop::testing {

// The values, in the order device_math_values writes them.
enum DeviceMathValue {
  kExp2Polynomial,         // exponential2_polynomial(y)
  kSigmoidPolynomial,      // sigmoid_of_base2<polynomial>(y)
  kLossTarget0,            // sigmoid_and_bce_of_base2<polynomial>(y, 0, p)
  kProbabilityTarget0,     // its p
  kLossTarget1,            // the same with target 1
  kProbabilityTarget1,
  kLogOnePlusUnit,         // log_one_plus_unit(u), u = 2^-|y| by the polynomial, in [0, 1]
  kReciprocalOnePlusUnit,  // reciprocal_of_normal(1 + u)
  kExp2Hardware,           // exponential2_flush_to_zero(y): the hardware's on the GPU
  kDeviceMathValues
};

// Every value but kExp2Hardware is made of correctly rounded operations and
// must have the same bits on the GPU as on the host.
BACKPROP_HOST_DEVICE void device_math_values(float y, float (&out)[kDeviceMathValues]) {
  using math::Exp2;
  out[kExp2Polynomial] = math::exponential2_polynomial(y);
  out[kSigmoidPolynomial] = math::sigmoid_of_base2<Exp2::polynomial>(y);
  float p;
  out[kLossTarget0] = math::sigmoid_and_bce_of_base2<Exp2::polynomial>(y, 0.0f, p);
  out[kProbabilityTarget0] = p;
  out[kLossTarget1] = math::sigmoid_and_bce_of_base2<Exp2::polynomial>(y, 1.0f, p);
  out[kProbabilityTarget1] = p;
  const float u = math::exponential2_polynomial(y < 0.0f ? y : -y);
  out[kLogOnePlusUnit] = math::log_one_plus_unit(u);
  out[kReciprocalOnePlusUnit] = math::reciprocal_of_normal(1.0f + u);
  out[kExp2Hardware] = math::exponential2_flush_to_zero(y);
}

}  // namespace backprop::testing
