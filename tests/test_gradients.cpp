// Analytic gradients against central finite differences of the loss, in f64.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "backprop/backprop.hpp"
#include "golden_file.hpp"
#include "numpy_random.hpp"

namespace backprop {
namespace {

// Measured worst case over the grid below: 1.2e-8.
constexpr double kMaxRelativeError = 1e-6;
constexpr double kStep = 1e-5;  // central differences: O(h^2) truncation, ~1e-11 rounding

Dataset soft_target_data(std::size_t samples, std::uint32_t seed) {
  Dataset d = testing::quadrant_data(samples, 2, seed);
  NumpyRandom rng(seed + 1);
  for (float& y : d.targets) y = static_cast<float>(rng.uniform());  // targets anywhere in [0, 1]
  return d;
}

double loss_at(const Backend& backend, const Dataset& data, const Parameters& p) {
  return backend.start(data, p, Precision::f64)->gradients().loss;
}

// ||analytic - numeric|| / max(||analytic||, ||numeric||) for one parameter array.
double relative_error(const std::vector<double>& analytic, const std::vector<double>& numeric) {
  double diff = 0, a = 0, n = 0;
  for (std::size_t k = 0; k < analytic.size(); ++k) {
    diff += (analytic[k] - numeric[k]) * (analytic[k] - numeric[k]);
    a += analytic[k] * analytic[k];
    n += numeric[k] * numeric[k];
  }
  return std::sqrt(diff) / std::max({std::sqrt(a), std::sqrt(n), 1e-300});
}

class GradientCheck : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

TEST_P(GradientCheck, AnalyticMatchesFiniteDifferences) {
  const auto [hidden, samples] = GetParam();
  const auto backend = make_backend("cpu");
  const Dataset data = soft_target_data(samples, 77);
  Parameters p = init_xavier({2, hidden, 1}, 5);
  for (std::size_t j = 0; j < hidden; ++j) p.b1[j] = 0.1 * static_cast<double>(j % 3) - 0.1;
  p.b2[0] = 0.2;

  const Gradients g = backend->start(data, p, Precision::f64)->gradients();
  auto numeric = [&](std::vector<double> Parameters::*field) {
    std::vector<double> result((p.*field).size());
    for (std::size_t k = 0; k < result.size(); ++k) {
      Parameters plus = p, minus = p;
      (plus.*field)[k] += kStep;
      (minus.*field)[k] -= kStep;
      result[k] = (loss_at(*backend, data, plus) - loss_at(*backend, data, minus)) / (2 * kStep);
    }
    return result;
  };
  const double errors[] = {relative_error(g.dW1, numeric(&Parameters::W1)),
                           relative_error(g.db1, numeric(&Parameters::b1)),
                           relative_error(g.dW2, numeric(&Parameters::W2)),
                           relative_error(g.db2, numeric(&Parameters::b2))};
  const char* names[] = {"dW1", "db1", "dW2", "db2"};
  for (int k = 0; k < 4; ++k) EXPECT_LT(errors[k], kMaxRelativeError) << names[k];
  char worst[32];
  std::snprintf(worst, sizeof worst, "%.3g", *std::max_element(std::begin(errors), std::end(errors)));
  RecordProperty("worst_relative_error", worst);
  EXPECT_NEAR(g.loss, loss_at(*backend, data, p), 0.0);
}

// Batches 1 and 4, and 9000: three chunks of 4096 for hidden 1 and 4, 36
// chunks of 256 in 18 segments for hidden 33, the last chunk partial.
INSTANTIATE_TEST_SUITE_P(HiddenByBatch, GradientCheck,
                         ::testing::Combine(::testing::Values(1, 4, 33), ::testing::Values(1, 4, 9000)));

}  // namespace
}  // namespace backprop
