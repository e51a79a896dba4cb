// The CPU's vectorisable math and its per-instruction-set builds.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "backprop/backprop.hpp"
#include "chunk_kernels.hpp"
#include "golden_file.hpp"

namespace polynomial {
#include "vector_math.hpp"
}

namespace backprop {
namespace {

// Measured worst case over the sweep below: 1.6e-7 (exp), 1.2e-7 (log1p).
constexpr double kMaxRelativeError = 3e-7;  // 2.5 ulp of float

TEST(VectorMath, ExpPolynomialIsWithinTwoUlp) {
  double worst = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(polynomial::exp_polynomial(x) - want) / want);
  }
  EXPECT_LT(worst, kMaxRelativeError);
  EXPECT_EQ(polynomial::exp_polynomial(0.0f), 1.0f);
  EXPECT_TRUE(std::isnan(polynomial::exp_polynomial(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_GT(polynomial::exp_polynomial(-1000.0f), 0.0f);  // clamped, not 0 or NaN
  EXPECT_TRUE(std::isfinite(polynomial::exp_polynomial(1000.0f)));
}

TEST(VectorMath, Log1pPolynomialIsWithinTwoUlp) {
  double worst = 0;
  for (float u = 1e-12f; u <= 1.0f; u = u < 1e-3f ? u * 1.5f : u + 1e-4f) {
    const double want = std::log1p(static_cast<double>(u));
    worst = std::max(worst, std::fabs(polynomial::log1p_unit_polynomial(u) - want) / want);
  }
  EXPECT_LT(worst, kMaxRelativeError);
  EXPECT_EQ(polynomial::log1p_unit_polynomial(0.0f), 0.0f);
}

TEST(VectorMath, SigmoidAndBceAgreeWithLibm) {
  for (float z = -30.0f; z <= 30.0f; z += 0.25f) {
    const double want = 1.0 / (1.0 + std::exp(-static_cast<double>(z)));
    EXPECT_NEAR(polynomial::sigmoid(z), want, 3e-7 * want) << z;
    for (float y : {0.0f, 0.3f, 1.0f}) {
      const double zd = z, loss = std::max(zd, 0.0) + std::log1p(std::exp(-std::fabs(zd))) - y * zd;
      EXPECT_NEAR(polynomial::bce_from_logit(z, y), loss, 1e-6 * (1 + std::fabs(loss))) << z << " " << y;
    }
  }
  EXPECT_TRUE(std::isnan(polynomial::sigmoid(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(polynomial::sigmoid(0.5), 1.0 / (1.0 + std::exp(-0.5)));  // double is libm's
}

// Every instruction-set build gives the same bits as the generic one.
class IsaBuilds : public ::testing::TestWithParam<Precision> {};

TEST_P(IsaBuilds, GiveBitIdenticalTraining) {
  const Dataset data = testing::quadrant_data(3000, 2, 9);
  TrainOptions options;
  options.epochs = 20;
  options.precision = GetParam();
  const Parameters initial = init_xavier({2, 19, 1}, 6);
  BackendConfig generic;
  generic.cpu_isa = "generic";
  const TrainResult want = train(*make_backend("cpu", generic), data, initial, options);
  const auto isas = cpu::runnable_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.back(), "generic");
  for (const auto& isa : isas) {
    BackendConfig config;
    config.cpu_isa = isa;
    const TrainResult got = train(*make_backend("cpu", config), data, initial, options);
    EXPECT_EQ(got.losses, want.losses) << isa;
    EXPECT_EQ(got.params.W1, want.params.W1) << isa;
  }
}

INSTANTIATE_TEST_SUITE_P(Precisions, IsaBuilds, ::testing::Values(Precision::f32, Precision::f64),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(IsaBuilds, UnknownIsaIsAnError) {
  BackendConfig config;
  config.cpu_isa = "neon";
  EXPECT_THROW(make_backend("cpu", config), Error);
}

}  // namespace
}  // namespace backprop
