// The scalar math the CPU backend and the CUDA kernels share, checked on the
// host (CI has no GPU; these are the same functions the kernels inline).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "activation_math.hpp"

namespace backprop::math {
namespace {

// The article's clipped BCE, for comparison where it does not clip.
double clipped_bce(double p, double y) {
  p = std::min(std::max(p, 1e-9), 1 - 1e-9);
  return -(y * std::log(p) + (1 - y) * std::log(1 - p));
}

TEST(ActivationMath, SigmoidValuesAndSaturation) {
  EXPECT_EQ(sigmoid(0.0), 0.5);
  EXPECT_DOUBLE_EQ(sigmoid(2.0), 1 / (1 + std::exp(-2.0)));
  EXPECT_EQ(sigmoid(-1000.0), 0.0);  // e^1000 overflows to inf: 1/inf, no NaN
  EXPECT_EQ(sigmoid(1000.0), 1.0);
  EXPECT_EQ(sigmoid(-200.0f), 0.0f);
  EXPECT_FALSE(std::isnan(sigmoid(-std::numeric_limits<float>::max())));
}

// One rounding, not two: (1 + 2^-k)^2 - (1 + 2^-(k-1)) is 2^-2k exactly,
// which a product rounded before the add loses (k = 12 in float, 27 in
// double). The kernels' sums of products depend on it to round as the
// CPU's do.
TEST(ActivationMath, MultiplyAddRoundsOnce) {
  const float a = 1 + std::ldexp(1.0f, -12);
  EXPECT_EQ(multiply_add(a, a, -(1 + std::ldexp(1.0f, -11))), std::ldexp(1.0f, -24));
  const double b = 1 + std::ldexp(1.0, -27);
  EXPECT_EQ(multiply_add(b, b, -(1 + std::ldexp(1.0, -26))), std::ldexp(1.0, -54));
}

// The distance from a to b in units of b's last place (float).
double float_ulps(float a, double b) {
  const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(b)) - 23);
  return std::fabs(a - b) / ulp;
}

TEST(ActivationMath, SigmoidOfBase2IsSigmoidOfItsArgument) {
  double worst = 0;
  for (double z = -30; z <= 30; z += 0.01) {
    const float y = static_cast<float>(z * kMinusLog2e);
    // The exact σ of the rounded argument: 1 / (1 + 2^y).
    const double want = 1 / (1 + std::exp2(static_cast<double>(y)));
    worst = std::max(worst, float_ulps(sigmoid_of_base2(y), want));
    EXPECT_NEAR(sigmoid_of_base2(static_cast<double>(y)), want, 2e-16 * want) << z;
  }
  EXPECT_LE(worst, 2.0);
}

TEST(ActivationMath, SigmoidOfBase2SaturatesWithoutNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(sigmoid_of_base2(0.0f), 0.5f);
  EXPECT_EQ(sigmoid_of_base2(-200.0f), 1.0f);
  EXPECT_EQ(sigmoid_of_base2(-inf), 1.0f);
  // Past y = 126 the denominator is held at 1 + 2^126, so σ stays 2^-126 (a
  // normal float) instead of a subnormal or zero.
  EXPECT_EQ(sigmoid_of_base2(127.5f), std::ldexp(1.0f, -126));
  EXPECT_EQ(sigmoid_of_base2(inf), std::ldexp(1.0f, -126));
  EXPECT_TRUE(std::isnan(sigmoid_of_base2(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(sigmoid_of_base2(-inf * 1.0), 1.0);
  EXPECT_EQ(sigmoid_of_base2(2000.0), 0.0);
}

TEST(ActivationMath, SigmoidAndBceShareOneExponential) {
  for (double z = -40; z <= 40; z += 0.037) {
    for (double y : {0.0, 0.3, 1.0}) {
      double p = -1;
      const double loss = sigmoid_and_bce(z, y, p);
      EXPECT_NEAR(p, sigmoid(z), 4e-16 * sigmoid(z)) << z;
      EXPECT_NEAR(loss, bce_from_logit(z, y), 1e-15 * (1 + std::fabs(loss))) << z << " " << y;
      float pf = -1;
      const float lossf = sigmoid_and_bce(static_cast<float>(z), static_cast<float>(y), pf);
      const double zf = static_cast<float>(z);
      EXPECT_LE(float_ulps(pf, sigmoid(zf)), 2.0) << z;
      EXPECT_NEAR(lossf, bce_from_logit(zf, static_cast<double>(static_cast<float>(y))),
                  2e-7 * (1 + std::fabs(zf)))
          << z << " " << y;
    }
  }
  float p = 0;
  EXPECT_TRUE(std::isnan(sigmoid_and_bce(std::numeric_limits<float>::quiet_NaN(), 1.0f, p)));
  EXPECT_TRUE(std::isnan(p));
  EXPECT_EQ(sigmoid_and_bce(-200.0f, 0.0f, p), 0.0f);
  EXPECT_EQ(p, 0.0f);
  EXPECT_NEAR(sigmoid_and_bce(-200.0f, 1.0f, p), 200.0f, 1e-4f);
}

TEST(ActivationMath, LogOnePlusUnitIsWithinThreeUlpsOfLog1p) {
  // Every 2^-20 of [0, 1], and u = 2^-k down to the smallest normal float,
  // where log(1 + u) is u itself to float precision. Measured worst: 2.57
  // ulp, near u = 0.644.
  double worst = 0;
  auto check = [&](float u) {
    const float got = log_one_plus_unit(u);
    worst = std::max(worst, float_ulps(got, std::log1p(static_cast<double>(u))));
    EXPECT_NEAR(log_one_plus_unit(static_cast<double>(u)), std::log1p(static_cast<double>(u)), 0.0) << u;
  };
  for (int i = 1; i <= (1 << 20); ++i) check(std::ldexp(static_cast<float>(i), -20));
  for (int k = 21; k <= 126; ++k) check(std::ldexp(1.0f, -k) * 1.37f);
  EXPECT_LE(worst, 3.0);
  EXPECT_EQ(log_one_plus_unit(0.0f), 0.0f);
  EXPECT_TRUE(std::isnan(log_one_plus_unit(std::numeric_limits<float>::quiet_NaN())));
}

TEST(ActivationMath, SigmoidAndBceOfBase2AreThoseOfTheLogit) {
  double worst_p = 0;
  for (double z = -40; z <= 40; z += 0.037) {
    for (double y : {0.0, 0.3, 1.0}) {
      // The logit that y2 stands for, exactly: y2 · -ln 2.
      const float y2 = static_cast<float>(z * kMinusLog2e);
      const double logit = static_cast<double>(y2) * -std::log(2.0);
      const float target = static_cast<float>(y);
      float p = -1;
      const float loss = sigmoid_and_bce_of_base2(y2, target, p);
      worst_p = std::max(worst_p, float_ulps(p, sigmoid(logit)));
      EXPECT_NEAR(loss, bce_from_logit(logit, static_cast<double>(target)), 2e-7 * (1 + std::fabs(logit)))
          << z << " " << y;
      double p64 = -1;
      const double loss64 = sigmoid_and_bce_of_base2(static_cast<double>(y2), static_cast<double>(target), p64);
      // logit, rounded to double, carries its own error into e^-logit.
      EXPECT_NEAR(p64, sigmoid(logit), 4e-16 * (1 + std::fabs(logit)) * sigmoid(logit)) << z;
      EXPECT_NEAR(loss64, bce_from_logit(logit, static_cast<double>(target)), 1e-15 * (1 + std::fabs(loss64)))
          << z << " " << y;
    }
  }
  EXPECT_LE(worst_p, 3.0);
  float p = 0;
  EXPECT_TRUE(std::isnan(sigmoid_and_bce_of_base2(std::numeric_limits<float>::quiet_NaN(), 1.0f, p)));
  EXPECT_TRUE(std::isnan(p));
  // Saturated: e = 2^-200 is 0 in float, so p is exactly 0 or 1 and the
  // loss is the logit's linear part.
  EXPECT_EQ(sigmoid_and_bce_of_base2(200.0f, 0.0f, p), 0.0f);  // z = -138.6, right
  EXPECT_EQ(p, 0.0f);
  EXPECT_NEAR(sigmoid_and_bce_of_base2(200.0f, 1.0f, p), 200 * std::log(2.0), 1e-4);  // wrong
  EXPECT_NEAR(sigmoid_and_bce_of_base2(-200.0f, 0.0f, p), 200 * std::log(2.0), 1e-4);
  EXPECT_EQ(p, 1.0f);
}

TEST(ActivationMath, SigmoidDerivativeMatchesFiniteDifference) {
  for (double z : {-3.0, -0.5, 0.0, 1.25, 4.0}) {
    const double h = 1e-6;
    const double numeric = (sigmoid(z + h) - sigmoid(z - h)) / (2 * h);
    EXPECT_NEAR(sigmoid_derivative(sigmoid(z)), numeric, 1e-9) << z;
  }
}

TEST(ActivationMath, SoftplusIsStable) {
  EXPECT_DOUBLE_EQ(softplus(0.0), std::log(2.0));
  EXPECT_DOUBLE_EQ(softplus(800.0), 800.0);      // log(1 + e^800) would overflow
  EXPECT_EQ(softplus(-700.0), std::exp(-700.0));  // log(1 + e^-700) would round to log(1) = 0
  EXPECT_EQ(softplus(-1e4), 0.0);
  EXPECT_FLOAT_EQ(softplus(30.0f), 30.0f);
}

TEST(ActivationMath, BceFromLogitEqualsTheArticlesFormWhereItDoesNotClip) {
  for (double z : {-15.0, -4.0, -0.3, 0.0, 0.7, 5.0, 18.0}) {
    for (double y : {0.0, 0.25, 1.0}) {
      const double p = sigmoid(z);
      if (p < 1e-9 || p > 1 - 1e-9) continue;
      // The clipped form loses digits in 1 - p and log(p) as p nears 0 or 1:
      // its error grows like eps / min(p, 1 - p).
      const double tolerance = 1e-15 * (1 + clipped_bce(p, y)) / std::min(p, 1 - p);
      EXPECT_NEAR(bce_from_logit(z, y), clipped_bce(p, y), tolerance) << z << " " << y;
    }
  }
}

TEST(ActivationMath, BceStaysFiniteWhereTheArticleClips) {
  // Confidently wrong: the clipped form caps at -log(1e-9) = 20.7, the true loss is 50.
  EXPECT_NEAR(bce_from_logit(-50.0, 1.0), 50.0, 1e-12);
  EXPECT_NEAR(bce_from_logit(60.0f, 0.0f), 60.0f, 1e-5f);
  EXPECT_TRUE(std::isfinite(bce_from_logit(-1e30f, 1.0f)));
}

TEST(ActivationMath, BceGradientIsPMinusY) {
  for (double z : {-2.0, 0.0, 3.0}) {
    for (double y : {0.0, 0.6, 1.0}) {
      const double h = 1e-6;
      const double numeric = (bce_from_logit(z + h, y) - bce_from_logit(z - h, y)) / (2 * h);
      EXPECT_NEAR(bce_sigmoid_gradient(sigmoid(z), y), numeric, 1e-8) << z << " " << y;
    }
  }
}

}  // namespace
}  // namespace backprop::math
