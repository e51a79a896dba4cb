// exp, sigmoid and the BCE loss for the CPU's hot loops, written so that GCC
// vectorises them without -ffast-math: no calls, no branches, only IEEE
// operations whose results do not depend on the vector width, so every ISA
// build gives the same bits. float uses polynomials (Cephes' expf and logf,
// within 2 ulp); double calls libm, as NumPy does, and stays the reference.
//
// Included inside a per-ISA anonymous namespace (see chunk_kernels.cpp), so
// each ISA's copy is its own symbol; the includer brings <bit>, <cmath> and
// <cstdint> first. That is also why the double forms restate the formulas of
// core/activation_math.hpp instead of calling them: an inline function with
// external linkage compiled for AVX-512 in one object could be the copy the
// linker keeps for the generic build too.

// exp(x) = 2^n · e^r with n = round(x / ln 2) and |r| <= ln2 / 2; e^r by a
// degree-7 polynomial. Clamping keeps 2^n a normal float; NaN fails both
// comparisons and stays NaN.
inline float exp_polynomial(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // Adding 1.5 * 2^23 rounds x / ln 2 to the nearest integer, which then
  // sits in the low mantissa bits of t.
  const float t = x * 1.44269504088896341f + 12582912.0f;
  const float n = t - 12582912.0f;
  float r = x - n * 0.693359375f;  // ln 2 in two parts, so r is exact
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const std::int32_t n_int = std::bit_cast<std::int32_t>(t) - 0x4B400000;
  return p * std::bit_cast<float>((n_int + 127) << 23);
}

// log(1 + u) for u in [0, 1]: Cephes' logf polynomial on f in [-0.293, 0.414],
// with f = u itself below sqrt(2) - 1 (no rounding of 1 + u), else
// log1p(u) = ln 2 + log(1 + (u - 1) / 2), where u - 1 is exact.
inline float log1p_unit_polynomial(float u) {
  const bool high = u > 0.41421356f;
  const float f = high ? (u - 1.0f) * 0.5f : u;
  const float z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z - 0.5f * z;
  return (f + y) + (high ? 0.693147180559945f : 0.0f);
}

inline float sigmoid(float z) { return 1.0f / (1.0f + exp_polynomial(-z)); }
inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// bce(z, y) = softplus(z) - y z, softplus(z) = max(z, 0) + log1p(e^-|z|).
inline float bce_from_logit(float z, float y) {
  const float magnitude = z > 0.0f ? z : -z;
  const float positive = z > 0.0f ? z : 0.0f;
  return positive + log1p_unit_polynomial(exp_polynomial(-magnitude)) - y * z;
}
inline double bce_from_logit(double z, double y) {
  const double magnitude = z > 0.0 ? z : -z;
  const double positive = z > 0.0 ? z : 0.0;
  return positive + std::log1p(std::exp(-magnitude)) - y * z;
}

// p = σ(z) and bce(z, y) together. For float one exponential serves both:
// with e = e^-|z|, σ(z) = 1 / (1 + e) for z >= 0 and e / (1 + e) below.
// double keeps libm's two evaluations, as NumPy computes them.
inline float sigmoid_and_bce(float z, float y, float& p) {
  const float magnitude = z > 0.0f ? z : -z;
  const float positive = z > 0.0f ? z : 0.0f;
  const float e = exp_polynomial(-magnitude);
  const float r = 1.0f / (1.0f + e);
  p = z >= 0.0f ? r : e * r;
  return positive + log1p_unit_polynomial(e) - y * z;
}
inline double sigmoid_and_bce(double z, double y, double& p) {
  p = sigmoid(z);
  return bce_from_logit(z, y);
}
