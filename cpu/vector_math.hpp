// exp, sigmoid and the BCE loss for the CPU's hot loops, written so that GCC
// vectorises them without -ffast-math: no branches, only correctly rounded
// IEEE operations (fused multiply-adds included) whose results do not depend
// on the vector width, so every ISA build gives the same bits. float uses
// polynomials (Cephes' expf and logf, within 2 ulp); double calls libm, as
// NumPy does, and stays the reference.
//
// Included inside a per-ISA anonymous namespace (see chunk_kernels.cpp), so
// each ISA's copy is its own symbol; the includer brings <bit>, <cmath>,
// <cstdint>, <type_traits> and, on x86, <immintrin.h> first. That is also
// why the double forms restate the formulas of core/activation_math.hpp
// instead of calling them: an inline function with external linkage compiled
// for AVX-512 in one object could be the copy the linker keeps for the
// generic build too.

// The hot loops' building blocks must inline into them whatever their size:
// a call would pass vectors through memory.
#ifndef BACKPROP_ALWAYS_INLINE
#define BACKPROP_ALWAYS_INLINE inline __attribute__((always_inline))
#endif

// The float forms are templates over F: float itself, or a GCC vector of
// floats (narrow_kernels.cpp), for which the same source gives the same
// operations lane by lane. Ints<F> is the matching integer type and
// select() the lane-wise choice, which for float is the plain ?: .
template <class F>
using Ints = std::conditional_t<std::is_same_v<F, float>, std::int32_t, decltype(F{} < F{})>;
template <class Mask, class F>
BACKPROP_ALWAYS_INLINE F select(Mask take_first, F first, F second) { return take_first ? first : second; }
template <class F>
BACKPROP_ALWAYS_INLINE F splat(float value) { return F{} + value; }

// Without FMA instructions, a · b + c lane by lane through libm, out of
// line: inlined, the calls of every operation on every register make the
// generic kernels take minutes and gigabytes to compile.
template <class F>
[[gnu::noinline]] F multiply_add_by_lanes(F a, F b, F c) {
  F result = c;
  for (std::size_t l = 0; l < sizeof(F) / sizeof(float); ++l) result[l] = __builtin_fmaf(a[l], b[l], c[l]);
  return result;
}

// a · b + c rounded once (IEEE fusedMultiplyAdd), so the same bits on every
// instruction set: the FMA instructions where the build has them (vectors
// through their intrinsics, since a lane-by-lane form makes GCC take the
// vectors apart), libm's fmaf elsewhere.
template <class F>
BACKPROP_ALWAYS_INLINE F multiply_add(F a, F b, F c) {
  if constexpr (std::is_same_v<F, float>) {
    return __builtin_fmaf(a, b, c);
  } else {
#if defined(__AVX512F__)
    if constexpr (sizeof(F) == 64) return _mm512_fmadd_ps(a, b, c);
#endif
#if defined(__FMA__)
    if constexpr (sizeof(F) == 32) return _mm256_fmadd_ps(a, b, c);
    if constexpr (sizeof(F) == 16) return _mm_fmadd_ps(a, b, c);
#endif
    return multiply_add_by_lanes(a, b, c);
  }
}

// x limited to [lo, hi]; NaN stays NaN. On x86 vectors one max and one
// min: those instructions return their second operand when a comparison
// fails, NaN included, so with x second they are exactly the selects below,
// which GCC would otherwise compile as a compare and a blend each.
template <class F>
BACKPROP_ALWAYS_INLINE F clamp(F x, float lo, float hi) {
  if constexpr (!std::is_same_v<F, float>) {
#if defined(__AVX512F__)
    // All lanes of the masked forms: the plain ones trip GCC 12's
    // -Wuninitialized inside their header.
    if constexpr (sizeof(F) == 64) {
      const __m512 at_least_lo = _mm512_mask_max_ps(x, 0xFFFF, _mm512_set1_ps(lo), x);
      return _mm512_mask_min_ps(x, 0xFFFF, _mm512_set1_ps(hi), at_least_lo);
    }
#endif
#if defined(__AVX__)
    if constexpr (sizeof(F) == 32) return _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), x));
#endif
#if defined(__SSE__)
    if constexpr (sizeof(F) == 16) return _mm_min_ps(_mm_set1_ps(hi), _mm_max_ps(_mm_set1_ps(lo), x));
#endif
  }
  x = select(x < lo, splat<F>(lo), x);
  return select(x > hi, splat<F>(hi), x);
}

// p · 2^n for an integral n in [-126, 127], given as a float n and as t,
// whose low mantissa bits hold it (exp_polynomial's rounding trick). Both
// forms round the exact product once, so they give the same bits: AVX-512's
// scalef does it in one instruction, elsewhere 2^n is built from its bits.
template <class F>
BACKPROP_ALWAYS_INLINE F times_power_of_two(F p, [[maybe_unused]] F n, F t) {
#if defined(__AVX512F__)
  if constexpr (!std::is_same_v<F, float> && sizeof(F) == 64) return _mm512_mask_scalef_ps(p, 0xFFFF, p, n);
#endif
  const Ints<F> n_int = std::bit_cast<Ints<F>>(t) - 0x4B400000;
  return p * std::bit_cast<F>((n_int + 127) << 23);
}

// exp(x) = 2^n · e^r with n = round(x / ln 2) and |r| <= ln2 / 2; e^r by a
// degree-7 polynomial. Clamping keeps 2^n a normal float; NaN passes the
// clamp and stays NaN.
template <class F>
BACKPROP_ALWAYS_INLINE F exp_polynomial(F x) {
  x = clamp(x, -87.0f, 88.0f);
  // Adding 1.5 * 2^23 rounds x / ln 2 to the nearest integer, which then
  // sits in the low mantissa bits of t.
  const F t = multiply_add(x, splat<F>(1.44269504088896341f), splat<F>(12582912.0f));
  const F n = t - 12582912.0f;
  F r = multiply_add(n, splat<F>(-0.693359375f), x);  // ln 2 in two parts, so r is exact
  r = multiply_add(n, splat<F>(2.12194440e-4f), r);
  F p = splat<F>(1.9875691500e-4f);
  p = multiply_add(p, r, splat<F>(1.3981999507e-3f));
  p = multiply_add(p, r, splat<F>(8.3334519073e-3f));
  p = multiply_add(p, r, splat<F>(4.1665795894e-2f));
  p = multiply_add(p, r, splat<F>(1.6666665459e-1f));
  p = multiply_add(p, r, splat<F>(5.0000001201e-1f));
  p = multiply_add(p, r * r, r) + 1.0f;
  return times_power_of_two(p, n, t);
}

// 2^y = 2^n · 2^f with n = round(y) and f = y - n in [-1/2, 1/2], exact;
// 2^f by a degree-6 polynomial (Cephes' exp2f), within 1.3 · 2^-24 over
// the range. Unlike exp_polynomial, the range reduction has no multiply:
// 5 multiplying operations fewer, on the unit that bounds the narrow kernel.
template <class F>
BACKPROP_ALWAYS_INLINE F exp2_polynomial(F y) {
  y = clamp(y, -126.0f, 127.0f);
  const F t = y + 12582912.0f;  // rounds y to an integer, as in exp_polynomial
  const F n = t - 12582912.0f;
  const F f = y - n;
  F p = splat<F>(1.535336188319500e-4f);
  p = multiply_add(p, f, splat<F>(1.339887440266574e-3f));
  p = multiply_add(p, f, splat<F>(9.618437357674640e-3f));
  p = multiply_add(p, f, splat<F>(5.550332471162809e-2f));
  p = multiply_add(p, f, splat<F>(2.402264791363012e-1f));
  p = multiply_add(p, f, splat<F>(6.931472028550421e-1f));
  p = multiply_add(p, f, splat<F>(1.0f));
  return times_power_of_two(p, n, t);
}

// log(1 + u) for u in [0, 1]: Cephes' logf polynomial on f in [-0.293, 0.414],
// with f = u itself below sqrt(2) - 1 (no rounding of 1 + u), else
// log1p(u) = ln 2 + log(1 + (u - 1) / 2), where u - 1 is exact.
template <class F>
BACKPROP_ALWAYS_INLINE F log1p_unit_polynomial(F u) {
  const auto high = u > 0.41421356f;
  const F f = select(high, (u - 1.0f) * 0.5f, u);
  const F z = f * f;
  F y = splat<F>(7.0376836292e-2f);
  y = multiply_add(y, f, splat<F>(-1.1514610310e-1f));
  y = multiply_add(y, f, splat<F>(1.1676998740e-1f));
  y = multiply_add(y, f, splat<F>(-1.2420140846e-1f));
  y = multiply_add(y, f, splat<F>(1.4249322787e-1f));
  y = multiply_add(y, f, splat<F>(-1.6668057665e-1f));
  y = multiply_add(y, f, splat<F>(2.0000714765e-1f));
  y = multiply_add(y, f, splat<F>(-2.4999993993e-1f));
  y = multiply_add(y, f, splat<F>(3.3333331174e-1f));
  y = multiply_add(y * f, z, -0.5f * z);
  return (f + y) + select(high, splat<F>(0.693147180559945f), splat<F>(0.0f));
}

template <class F>
BACKPROP_ALWAYS_INLINE F sigmoid(F z) { return 1.0f / (1.0f + exp_polynomial(-z)); }
inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// σ(z) given y = -z · log2(e): 1 / (1 + 2^y). For callers that can fold
// the factor into the weights that produce z.
template <class F>
BACKPROP_ALWAYS_INLINE F sigmoid_of_base2(F y) { return 1.0f / (1.0f + exp2_polynomial(y)); }

// bce(z, y) = softplus(z) - y z, softplus(z) = max(z, 0) + log1p(e^-|z|).
template <class F>
BACKPROP_ALWAYS_INLINE F bce_from_logit(F z, F y) {
  const F magnitude = select(z > 0.0f, z, -z);
  const F positive = select(z > 0.0f, z, splat<F>(0.0f));
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
template <class F>
BACKPROP_ALWAYS_INLINE F sigmoid_and_bce(F z, F y, F& p) {
  const F magnitude = select(z > 0.0f, z, -z);
  const F positive = select(z > 0.0f, z, splat<F>(0.0f));
  const F e = exp_polynomial(-magnitude);
  const F r = 1.0f / (1.0f + e);
  p = select(z >= 0.0f, r, e * r);
  return positive + log1p_unit_polynomial(e) - y * z;
}
inline double sigmoid_and_bce(double z, double y, double& p) {
  p = sigmoid(z);
  return bce_from_logit(z, y);
}
