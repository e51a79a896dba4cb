// The scalar math of the network as the CUDA kernels run it (__host__
// __device__ under nvcc), so CI without a GPU tests the very functions the GPU
// runs. The CPU backend's hot loops use the same formulas in a vectorisable
// form (cpu/vector_math.hpp); the tests hold both to libm.
#pragma once

#include <math.h>
#include <string.h>

#include <type_traits>

#if defined(__CUDACC__)
#define BACKPROP_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define BACKPROP_HOST_DEVICE inline
#endif

#if defined(CUDA_ON_HOST)
// The host emulation of the CUDA kernels (tests/cuda_on_host/device_math.cpp)
// supplies the hardware's exp2.
namespace cuda_on_host {
float ex2_approx_ftz(float y);
}
#endif

namespace backprop::math {

BACKPROP_HOST_DEVICE float exponential(float x) { return expf(x); }
BACKPROP_HOST_DEVICE double exponential(double x) { return exp(x); }
BACKPROP_HOST_DEVICE float log_one_plus(float x) { return log1pf(x); }
BACKPROP_HOST_DEVICE double log_one_plus(double x) { return log1p(x); }
BACKPROP_HOST_DEVICE float square_root(float x) { return sqrtf(x); }
BACKPROP_HOST_DEVICE double square_root(double x) { return sqrt(x); }

// a b + c with one rounding, as the CPU's kernels fuse their sums of
// products. The CUDA sources are built with --fmad=false (CMakeLists.txt),
// so the GPU fuses only what the source spells out, this function and the
// fmaf calls below, and rounds as the host does.
BACKPROP_HOST_DEVICE float multiply_add(float a, float b, float c) { return fmaf(a, b, c); }
BACKPROP_HOST_DEVICE double multiply_add(double a, double b, double c) { return fma(a, b, c); }

// σ(z) = 1 / (1 + e^-z), the article's form. For z -> -inf, e^-z overflows
// to +inf and σ rounds to 0; no NaN is produced for any finite z.
template <class T>
BACKPROP_HOST_DEVICE T sigmoid(T z) {
  return T(1) / (T(1) + exponential(-z));
}

// -log2(e). A layer whose weights are stored times this computes
// y = -z log2(e) instead of z, and σ(z) = 1 / (1 + 2^y): 2^y needs no
// multiply to reduce its argument, where e^-z needs one.
constexpr double kMinusLog2e = -1.4426950408889634;

// 2^y. On the GPU, float: the hardware's exp2 (ex2.approx, the core of
// exp2f; documented as 2 ulp, 2.055 measured on an H200) with subnormal
// results flushed to zero, for callers that add 1 to it, which rounds them
// away anyway. In the host emulation of the kernels: its model of that
// instruction.
BACKPROP_HOST_DEVICE float exponential2_flush_to_zero(float y) {
#if defined(__CUDA_ARCH__)
  float result;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(result) : "f"(y));
  return result;
#elif defined(CUDA_ON_HOST)
  return cuda_on_host::ex2_approx_ftz(y);
#else
  return exp2f(y);
#endif
}

// `from`'s bits as a To of the same size, in device or host code (nvcc
// turns the copy into a register move).
template <class To, class From>
BACKPROP_HOST_DEVICE To bits_as(From from) {
  static_assert(sizeof(To) == sizeof(From), "a copy of the bits");
  To to;
  memcpy(&to, &from, sizeof to);
  return to;
}

// 2^y by the CPU kernels' polynomial (cpu/vector_math.hpp, exp2_polynomial:
// the same operations in the same order): 2^n · 2^f with n = round(y) and
// f = y - n in [-1/2, 1/2], both exact, and 2^f by Cephes' degree-6
// polynomial, within 1.3 · 2^-24. Each step is a correctly rounded
// operation, so the host and the GPU give the same bits, which the
// hardware's exp2 does not promise; it costs some ten instructions where
// that one takes one. y is clamped to [-126, 127] (NaN passes).
BACKPROP_HOST_DEVICE float exponential2_polynomial(float y) {
  y = y < -126.0f ? -126.0f : y;
  y = y > 127.0f ? 127.0f : y;
  const float t = y + 12582912.0f;  // 1.5 · 2^23: rounds y to an integer, held in t's low bits
  const float n = t - 12582912.0f;
  const float f = y - n;
  float p = 1.535336188319500e-4f;
  p = fmaf(p, f, 1.339887440266574e-3f);
  p = fmaf(p, f, 9.618437357674640e-3f);
  p = fmaf(p, f, 5.550332471162809e-2f);
  p = fmaf(p, f, 2.402264791363012e-1f);
  p = fmaf(p, f, 6.931472028550421e-1f);
  p = fmaf(p, f, 1.0f);
  const unsigned biased_exponent = bits_as<unsigned>(t) - 0x4B400000u + 127u;  // n + 127, in [1, 254]
  return p * bits_as<float>(biased_exponent << 23);
}

// How a float kernel computes 2^y: the hardware's instruction, or the
// polynomial whose bits the host reproduces. Double always calls exp2.
enum class Exp2 { hardware, polynomial };

template <Exp2 kExp2>
BACKPROP_HOST_DEVICE float exponential2(float y) {
  if constexpr (kExp2 == Exp2::polynomial) {
    return exponential2_polynomial(y);
  } else {
    return exponential2_flush_to_zero(y);
  }
}

// 1 / d for 1 <= d <= 2^126 or NaN: correctly rounded. On the GPU, float:
// the hardware's reciprocal and one Newton step, which is what CUDA's
// correctly rounded reciprocal computes for such d, without its test for
// a d out of that range (a subnormal or huge one) and the slow path.
BACKPROP_HOST_DEVICE float reciprocal_of_normal(float d) {
#if defined(__CUDA_ARCH__)
  float r;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(d));
  return fmaf(r, fmaf(-d, r, 1.0f), r);
#else
  return 1.0f / d;
#endif
}
BACKPROP_HOST_DEVICE double reciprocal_of_normal(double d) { return 1.0 / d; }

// σ(z) given y = -z log2(e) (see kMinusLog2e): 1 / (1 + 2^y). y is
// limited to 126 (NaN passes), so 1 + 2^y stays in reciprocal_of_normal's
// range; σ there is at most 2^-126 either way.
template <Exp2 kExp2 = Exp2::hardware>
BACKPROP_HOST_DEVICE float sigmoid_of_base2(float y) {
  y = y > 126.0f ? 126.0f : y;
  return reciprocal_of_normal(1.0f + exponential2<kExp2>(y));
}
template <Exp2 kExp2 = Exp2::hardware>
BACKPROP_HOST_DEVICE double sigmoid_of_base2(double y) {
  return 1.0 / (1.0 + exp2(y));
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

// log(1 + u) for u in [0, 1], NaN passing, without log1pf's argument
// reduction and its branch for negative and infinite u (about 25
// instructions on sm_90): log(1 + u) = 2 atanh(s) with s = u / (2 + u) in
// [0, 1/3], which is 2s + s w Q(w) for w = s^2, and Q, a cubic fitted to
// (2 atanh(s) - 2s) / s^3 within 2.8e-7, moves the result by at most w / 2
// times that. Within 2.6 ulp of log1p over [0, 1] (tested); every step is
// a correctly rounded operation, so host and device give the same bits.
BACKPROP_HOST_DEVICE float log_one_plus_unit(float u) {
  const float s = u * reciprocal_of_normal(2.0f + u);
  const float w = s * s;
  float q = fmaf(0.268836081f, w, 0.28231281f);
  q = fmaf(q, w, 0.400077820f);
  q = fmaf(q, w, 0.666666389f);
  return fmaf(s * w, q, s + s);
}
BACKPROP_HOST_DEVICE double log_one_plus_unit(double u) { return log1p(u); }

// p = σ(z) and bce(z, y) given e = e^-|z|, so that one exponential serves
// both: σ(z) = 1 / (1 + e) for z >= 0 and e / (1 + e) below, and
// bce(z, y) = max(z, 0) + log1p(e) - y z. NaN in z gives NaN in both.
template <class T>
BACKPROP_HOST_DEVICE T sigmoid_and_bce_given_exponential(T z, T e, T y, T& p) {
  const T r = reciprocal_of_normal(T(1) + e);  // 1 + e in [1, 2]
  p = z >= T(0) ? r : e * r;
  const T positive = z > T(0) ? z : T(0);
  return positive + log_one_plus_unit(e) - y * z;
}

// p = σ(z) and bce(z, y) from the logit z.
template <class T>
BACKPROP_HOST_DEVICE T sigmoid_and_bce(T z, T y, T& p) {
  const T magnitude = z > T(0) ? z : -z;
  return sigmoid_and_bce_given_exponential(z, exponential(-magnitude), y, p);
}

// -ln 2: z = y2 · -ln 2 recovers a logit from y2 = -z log2(e).
constexpr double kMinusLn2 = -0.6931471805599453;

// p = σ(z) and bce(z, y) given y2 = -z log2(e), for an output layer whose
// weights are stored times kMinusLog2e: then e = e^-|z| is 2^-|y2|, with no
// multiply and no rounding of a reduced argument (see
// exponential2), and z itself, one multiply away, enters only the loss.
// NaN in y2 gives NaN in both.
template <Exp2 kExp2 = Exp2::hardware, class T>
BACKPROP_HOST_DEVICE T sigmoid_and_bce_of_base2(T y2, T target, T& p) {
  const T minus_magnitude = y2 < T(0) ? y2 : -y2;  // -|y2|
  T e;
  if constexpr (std::is_same_v<T, float>) {
    e = exponential2<kExp2>(minus_magnitude);
  } else {
    e = exp2(minus_magnitude);
  }
  return sigmoid_and_bce_given_exponential(y2 * static_cast<T>(kMinusLn2), e, target, p);
}

// d bce / dz = σ(z) - y, written with p = σ(z).
template <class T>
BACKPROP_HOST_DEVICE T bce_sigmoid_gradient(T p, T y) {
  return p - y;
}

}  // namespace backprop::math
