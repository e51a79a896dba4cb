// The CPU backend in f64: analytic gradients against central finite
// differences of the loss, and the loss and probabilities against a plain
// loop over samples, for input counts 1 to 7 and one to three outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "backprop/backprop.hpp"
#include "random_data.hpp"

namespace backprop {
namespace {

// Measured worst case over the tests below: 1.3e-8.
constexpr double kMaxRelativeError = 1e-6;
constexpr double kStep = 1e-5;  // central differences: O(h^2) truncation, ~1e-11 rounding

// The forward pass by a plain loop over samples, in double: the check that
// the kernels read the features and targets they should (finite differences
// alone would agree with a misread data set).
struct PlainForward {
  std::vector<double> probabilities;  // (samples, outputs)
  double loss = 0;                    // mean over samples of the sum over outputs
};

PlainForward plain_forward(const Dataset& data, const Parameters& p) {
  const Shape& shape = p.shape;
  PlainForward result;
  std::vector<double> a1(shape.hidden);
  for (std::size_t s = 0; s < data.samples(); ++s) {
    for (std::size_t j = 0; j < shape.hidden; ++j) {
      double z = p.b1[j];
      for (std::size_t i = 0; i < shape.inputs; ++i) {
        z += data.features[s * shape.inputs + i] * p.W1[i * shape.hidden + j];
      }
      a1[j] = 1 / (1 + std::exp(-z));
    }
    for (std::size_t o = 0; o < shape.outputs; ++o) {
      double z = p.b2[o];
      for (std::size_t j = 0; j < shape.hidden; ++j) z += a1[j] * p.W2[j * shape.outputs + o];
      const double y = data.targets[s * shape.outputs + o];
      result.probabilities.push_back(1 / (1 + std::exp(-z)));
      result.loss += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::fabs(z)));
    }
  }
  result.loss /= static_cast<double>(data.samples());
  return result;
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

// Checks every gradient array of `shape` on `samples` samples, from Xavier
// weights with nonzero biases (zero ones would hide a mishandled bias), and
// returns the worst relative error.
double check_gradients(const Shape& shape, std::size_t samples) {
  SCOPED_TRACE(to_string(shape) + ", " + std::to_string(samples) + " samples");
  const auto backend = make_backend("cpu");
  const Dataset data = testing::random_data(samples, shape.inputs, 77, shape.outputs);
  Parameters p = init_xavier(shape, 5);
  for (std::size_t j = 0; j < shape.hidden; ++j) p.b1[j] = 0.1 * static_cast<double>(j % 3) - 0.1;
  for (std::size_t o = 0; o < shape.outputs; ++o) p.b2[o] = 0.2 - 0.15 * static_cast<double>(o);

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
  EXPECT_NEAR(g.loss, loss_at(*backend, data, p), 0.0);
  const PlainForward plain = plain_forward(data, p);
  EXPECT_NEAR(g.loss, plain.loss, 1e-12 * g.loss);
  const std::vector<double> probabilities = backend->predict(p, data, Precision::f64);
  EXPECT_EQ(probabilities.size(), plain.probabilities.size());
  double farthest = 0;
  for (std::size_t k = 0; k < std::min(probabilities.size(), plain.probabilities.size()); ++k) {
    farthest = std::max(farthest, std::fabs(probabilities[k] - plain.probabilities[k]));
  }
  EXPECT_LE(farthest, 1e-14) << "predicted probabilities";
  return *std::max_element(std::begin(errors), std::end(errors));
}

void record_worst(double error) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", error);
  ::testing::Test::RecordProperty("worst_relative_error", text);
}

class GradientCheck : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

TEST_P(GradientCheck, AnalyticMatchesFiniteDifferences) {
  const auto [hidden, samples] = GetParam();
  record_worst(check_gradients({2, hidden, 1}, samples));
}

// Batches 1 and 4, and 9000: three chunks of 4096 for hidden 1 and 4, 36
// chunks of 256 in 18 segments for hidden 33, the last chunk partial.
INSTANTIATE_TEST_SUITE_P(HiddenByBatch, GradientCheck,
                         ::testing::Combine(::testing::Values(1, 4, 33), ::testing::Values(1, 4, 9000)));

// The other input counts of the narrow kernels (1, 3, 4), more inputs than
// they take (5, 7: the general transposes), and several outputs, which the
// narrow kernels leave to the chunk kernels: on one chunk, and on 4500
// samples, two to eighteen chunks with the last one partial.
TEST(GradientCheckShapes, AnalyticMatchesFiniteDifferences) {
  double worst = 0;
  for (const Shape shape : {Shape{1, 3, 1}, Shape{3, 5, 1}, Shape{4, 8, 1}, Shape{5, 4, 1}, Shape{2, 4, 2},
                            Shape{7, 2, 3}, Shape{5, 33, 3}}) {
    for (const std::size_t samples : {std::size_t{5}, std::size_t{4500}}) {
      worst = std::max(worst, check_gradients(shape, samples));
    }
  }
  record_worst(worst);
}

}  // namespace
}  // namespace backprop
