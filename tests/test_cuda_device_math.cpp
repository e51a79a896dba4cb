// The kernels' scalar math on the GPU against the same source on the host
// (device_math_values.hpp): every value made of correctly rounded operations
// has the same bits, which is what lets the host emulation of the CUDA
// backend stand for the GPU; the hardware's exp2 is held close to CUDA's
// documented 2 ulp, its mean error near zero. Skips without a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "backend_entry.hpp"
#include "device_math_on_gpu.cuh"

namespace backprop {
BackendEntry cuda_backend_entry();  // cuda/cuda_backend.cu: why no kernel can run here, if so
}  // namespace backprop

namespace backprop::testing {
namespace {

#define REQUIRE_DEVICE()                                                                  \
  if (const std::string reason = cuda_backend_entry().unusable_reason(); !reason.empty()) \
  GTEST_SKIP() << reason

// Inputs over the float range the kernels see and past it: a coarse sweep
// of [-140, 140], a fine one of [-2, 2] (the article's plateau), and the
// special values.
std::vector<float> inputs() {
  std::vector<float> y;
  for (int k = 0; k <= 1 << 18; ++k) y.push_back(static_cast<float>(-140.0 + 280.0 * k / (1 << 18)));
  for (int k = 0; k <= 1 << 18; ++k) y.push_back(static_cast<float>(-2.0 + 4.0 * k / (1 << 18)));
  const float inf = std::numeric_limits<float>::infinity();
  for (const float special : {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), -126.0f, -126.5f,
                              126.0f, 126.5f, 127.0f, 127.5f, 128.0f, -149.0f, 1e-40f, -1e-40f, 0.5f, -0.5f}) {
    y.push_back(special);
  }
  return y;
}

std::uint32_t bits(float f) { return math::bits_as<std::uint32_t>(f); }

const char* const kNames[kDeviceMathValues] = {"exponential2_polynomial", "sigmoid_of_base2<polynomial>",
                                               "loss, target 0", "p, target 0", "loss, target 1",
                                               "p, target 1", "log_one_plus_unit", "reciprocal_of_normal",
                                               "the hardware's exp2"};

TEST(CudaDeviceMath, CorrectlyRoundedMathGivesTheHostsBits) {
  REQUIRE_DEVICE();
  const std::vector<float> y = inputs();
  const std::vector<float> gpu = device_math_on_gpu(y);
  ASSERT_EQ(gpu.size(), y.size() * kDeviceMathValues);
  int reported = 0;
  for (std::size_t k = 0; k < y.size(); ++k) {
    float host[kDeviceMathValues];
    device_math_values(y[k], host);
    for (int v = 0; v < kDeviceMathValues; ++v) {
      if (v == kExp2Hardware) continue;
      const float got = gpu[k * kDeviceMathValues + v];
      const bool same = std::isnan(host[v]) ? std::isnan(got) : bits(got) == bits(host[v]);
      if (!same && reported++ < 20) {
        ADD_FAILURE() << kNames[v] << " at y = " << y[k] << ": GPU " << got << " (0x" << std::hex << bits(got)
                      << "), host " << host[v] << " (0x" << bits(host[v]) << std::dec << ")";
      }
    }
  }
  EXPECT_EQ(reported, 0) << "values whose bits differ";
}

// CUDA documents exp2f, whose core ex2.approx is, as within 2 ulp, a
// figure it says comes from extensive tests and is not guaranteed. On an
// H200 (2026-11-29) the bare instruction erred by up to 2.055 ulp over these
// inputs, so the bound here is 2.5: still far below what a wrong exp2 would
// give. The mean signed error says whether it leans one way, which a plateau
// like the article's would amplify (narrow_step.cuh, narrow_exp2); the H200
// leaned by -0.11 ulp, and the emulation moves the article's escape by
// 9e-4 at a lean of half an ulp (cuda/README.md).
TEST(CudaDeviceMath, HardwareExp2ErrsByAboutTwoUlpWithoutLeaning) {
  REQUIRE_DEVICE();
  const std::vector<float> y = inputs();
  const std::vector<float> gpu = device_math_on_gpu(y);
  double worst = 0, signed_sum = 0, plateau_sum = 0;
  std::size_t counted = 0, plateau = 0;
  for (std::size_t k = 0; k < y.size(); ++k) {
    const double want = std::exp2(static_cast<double>(y[k]));
    if (!(want >= std::ldexp(1.0, -126) && want < std::ldexp(1.0, 128))) continue;  // normal results
    const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(want)) - 23);
    const double error = (gpu[k * kDeviceMathValues + kExp2Hardware] - want) / ulp;
    worst = std::max(worst, std::fabs(error));
    signed_sum += error;
    ++counted;
    if (std::fabs(y[k]) <= 2) {
      plateau_sum += error;
      ++plateau;
    }
  }
  // Normal results: the whole fine sweep and 254/280 of the coarse one
  // (exp2 is normal on [-126, 128)), 499,958 values.
  ASSERT_GT(counted, std::size_t{499000});
  std::printf("hardware exp2: worst %.3f ulp, mean signed error %+.4f ulp (%+.4f over |y| <= 2)\n", worst,
              signed_sum / counted, plateau_sum / plateau);
  RecordProperty("worst_ulp", std::to_string(worst));
  RecordProperty("mean_signed_ulp", std::to_string(signed_sum / counted));
  EXPECT_LE(worst, 2.5);
  EXPECT_LE(std::fabs(signed_sum / counted), 0.25);
}

}  // namespace
}  // namespace backprop::testing
