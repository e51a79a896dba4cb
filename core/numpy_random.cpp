#include "numpy_random.hpp"

#include <cmath>
#include <utility>

namespace backprop {

double NumpyRandom::normal() {
  if (has_cached_) {
    has_cached_ = false;
    return cached_;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * uniform() - 1.0;
    x2 = 2.0 * uniform() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * std::log(r2) / r2);
  cached_ = f * x1;
  has_cached_ = true;
  return f * x2;
}

std::uint64_t NumpyRandom::bounded(std::uint64_t max) {
  if (max == 0) return 0;
  std::uint64_t mask = max;
  for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
  std::uint64_t value;
  if (max <= 0xffffffffu) {
    do {
      value = static_cast<std::uint32_t>(mt_()) & mask;
    } while (value > max);
  } else {
    do {
      const std::uint64_t high = static_cast<std::uint32_t>(mt_());
      value = ((high << 32) | static_cast<std::uint32_t>(mt_())) & mask;
    } while (value > max);
  }
  return value;
}

void NumpyRandom::permutation(std::size_t n, std::vector<std::uint32_t>& order) {
  order.resize(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  for (std::size_t i = n; i-- > 1;) std::swap(order[i], order[bounded(i)]);
}

}  // namespace backprop
