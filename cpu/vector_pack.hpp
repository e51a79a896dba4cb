// Pack<V, K>: K native vectors (GCC vector types) handled as one value.
// Every operation is K independent instructions issued side by side. The
// narrow kernel's chain per sample is long (an exponential, a division and
// a logarithm after another exponential), and one vector's chain is about
// as long as the out-of-order window; K interleaved chains keep the
// arithmetic units busy instead of waiting on latency.
//
// Included inside a per-ISA anonymous namespace after vector_math.hpp, whose
// templates (exp_polynomial, sigmoid, ...) then accept a Pack as their F:
// select(), multiply_add(), clamp() and times_power_of_two() are
// overloaded below and found by argument-dependent lookup.

// The widest float vector this build's instruction set has, as a GCC vector
// type: lane-wise arithmetic, written once for every width.
#if defined(__AVX512F__)
constexpr std::size_t kWidth = 16;
#elif defined(__AVX__)
constexpr std::size_t kWidth = 8;
#else
constexpr std::size_t kWidth = 4;
#endif
using Floats = float __attribute__((vector_size(kWidth * sizeof(float))));

template <class V, std::size_t K>
struct Pack {
  V v[K];
};

#define BACKPROP_PACK_BINARY(op)                                                             \
  template <class V, std::size_t K>                                                          \
  BACKPROP_ALWAYS_INLINE auto operator op(const Pack<V, K>& a, const Pack<V, K>& b) {        \
    Pack<decltype(a.v[0] op b.v[0]), K> r;                                                   \
    for (std::size_t k = 0; k < K; ++k) r.v[k] = a.v[k] op b.v[k];                           \
    return r;                                                                                \
  }                                                                                          \
  template <class V, std::size_t K, class S, class = std::enable_if_t<std::is_arithmetic_v<S>>> \
  BACKPROP_ALWAYS_INLINE auto operator op(const Pack<V, K>& a, S b) {                        \
    Pack<decltype(a.v[0] op b), K> r;                                                        \
    for (std::size_t k = 0; k < K; ++k) r.v[k] = a.v[k] op b;                                \
    return r;                                                                                \
  }                                                                                          \
  template <class V, std::size_t K, class S, class = std::enable_if_t<std::is_arithmetic_v<S>>> \
  BACKPROP_ALWAYS_INLINE auto operator op(S a, const Pack<V, K>& b) {                        \
    Pack<decltype(a op b.v[0]), K> r;                                                        \
    for (std::size_t k = 0; k < K; ++k) r.v[k] = a op b.v[k];                                \
    return r;                                                                                \
  }
BACKPROP_PACK_BINARY(+)
BACKPROP_PACK_BINARY(-)
BACKPROP_PACK_BINARY(*)
BACKPROP_PACK_BINARY(/)
BACKPROP_PACK_BINARY(<<)
BACKPROP_PACK_BINARY(<)
BACKPROP_PACK_BINARY(>)
BACKPROP_PACK_BINARY(>=)
#undef BACKPROP_PACK_BINARY

template <class V, std::size_t K>
BACKPROP_ALWAYS_INLINE Pack<V, K> operator-(const Pack<V, K>& a) {
  Pack<V, K> r;
  for (std::size_t k = 0; k < K; ++k) r.v[k] = -a.v[k];
  return r;
}

template <class V, std::size_t K>
BACKPROP_ALWAYS_INLINE Pack<V, K>& operator+=(Pack<V, K>& a, const Pack<V, K>& b) {
  for (std::size_t k = 0; k < K; ++k) a.v[k] += b.v[k];
  return a;
}

template <class M, class V, std::size_t K>
BACKPROP_ALWAYS_INLINE Pack<V, K> select(const Pack<M, K>& take_first, const Pack<V, K>& first,
                                         const Pack<V, K>& second) {
  Pack<V, K> r;
  for (std::size_t k = 0; k < K; ++k) r.v[k] = select(take_first.v[k], first.v[k], second.v[k]);
  return r;
}

template <class V, std::size_t K>
BACKPROP_ALWAYS_INLINE Pack<V, K> multiply_add(const Pack<V, K>& a, const Pack<V, K>& b, const Pack<V, K>& c) {
  Pack<V, K> r;
  for (std::size_t k = 0; k < K; ++k) r.v[k] = multiply_add(a.v[k], b.v[k], c.v[k]);
  return r;
}

template <class V, std::size_t K>
BACKPROP_ALWAYS_INLINE Pack<V, K> clamp(const Pack<V, K>& x, float lo, float hi) {
  Pack<V, K> r;
  for (std::size_t k = 0; k < K; ++k) r.v[k] = clamp(x.v[k], lo, hi);
  return r;
}

template <class V, std::size_t K>
BACKPROP_ALWAYS_INLINE Pack<V, K> times_power_of_two(const Pack<V, K>& p, const Pack<V, K>& n, const Pack<V, K>& t) {
  Pack<V, K> r;
  for (std::size_t k = 0; k < K; ++k) r.v[k] = times_power_of_two(p.v[k], n.v[k], t.v[k]);
  return r;
}
