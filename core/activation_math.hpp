// The scalar math of the network as the CUDA kernels run it (__host__
// __device__ under nvcc), so CI without a GPU tests the very functions the GPU
// runs. The CPU backend's hot loops use the same formulas in a vectorisable
// form (cpu/vector_math.hpp); the tests hold both to libm.
#pragma once

#include <math.h>

#if defined(__CUDACC__)
#define BACKPROP_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define BACKPROP_HOST_DEVICE inline
#endif

namespace backprop::math {

BACKPROP_HOST_DEVICE float exponential(float x) { return expf(x); }
BACKPROP_HOST_DEVICE double exponential(double x) { return exp(x); }
BACKPROP_HOST_DEVICE float log_one_plus(float x) { return log1pf(x); }
BACKPROP_HOST_DEVICE double log_one_plus(double x) { return log1p(x); }

// σ(z) = 1 / (1 + e^-z), the article's form. For z -> -inf, e^-z overflows
// to +inf and σ rounds to 0; no NaN is produced for any finite z.
template <class T>
BACKPROP_HOST_DEVICE T sigmoid(T z) {
  return T(1) / (T(1) + exponential(-z));
}

// σ'(z) written with the activation a = σ(z): a (1 - a).
template <class T>
BACKPROP_HOST_DEVICE T sigmoid_derivative(T a) {
  return a * (T(1) - a);
}

// softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|): never overflows.
template <class T>
BACKPROP_HOST_DEVICE T softplus(T z) {
  const T positive = z > T(0) ? z : T(0);
  const T magnitude = z > T(0) ? z : -z;
  return positive + log_one_plus(exponential(-magnitude));
}

// Binary cross-entropy of p = σ(z) against target y, from the logit z:
//   -[y log σ(z) + (1 - y) log(1 - σ(z))] = softplus(z) - y z.
// Equals the article's clipped form wherever p is not within 1e-9 of 0 or 1,
// and stays finite and accurate where that form clips.
template <class T>
BACKPROP_HOST_DEVICE T bce_from_logit(T z, T y) {
  return softplus(z) - y * z;
}

// d bce / dz = σ(z) - y, written with p = σ(z).
template <class T>
BACKPROP_HOST_DEVICE T bce_sigmoid_gradient(T p, T y) {
  return p - y;
}

}  // namespace backprop::math
