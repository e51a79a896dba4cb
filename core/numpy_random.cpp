#include "numpy_random.hpp"

#include <cmath>

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

}  // namespace backprop
