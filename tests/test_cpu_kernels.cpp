// The CPU's vectorisable math and its per-instruction-set builds.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <pthread.h>

#include "activation_math.hpp"
#include "backprop/backprop.hpp"
#include "chunk_kernels.hpp"
#include "golden_file.hpp"
#include "numpy_random.hpp"
#include "print_values.hpp"
#include "random_data.hpp"
#include "vector_math_on_isa.hpp"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace polynomial {
#include "vector_math.hpp"
}

#define BACKPROP_CPU_ISA_BUILD(name, feature)                                                              \
  namespace backprop::cpu::name {                                                                          \
  backprop::testing::VectorMathLanes vector_math_on_lanes(const std::vector<float>& z, const std::vector<float>& y); \
  }
#include "cpu_isas.inc"
#undef BACKPROP_CPU_ISA_BUILD

namespace backprop {
namespace {

// Measured worst case over the sweeps below: 8.2e-8 (exp), 7.5e-8 (exp2), 1.1e-7 (log1p).
constexpr double kMaxRelativeError = 3e-7;  // 2.5 ulp of float

// An exponential polynomial against libm's double over [from, to], and at
// the values any of them must get right: 1 at 0, NaN for NaN, positive and
// finite past its clamps.
template <class Polynomial, class Libm>
void expect_exponential_within_two_ulp(Polynomial polynomial, Libm libm, float from, float to, float step) {
  double worst = 0;
  for (float x = from; x <= to; x += step) {
    const double want = libm(static_cast<double>(x));
    worst = std::max(worst, std::fabs(polynomial(x) - want) / want);
  }
  EXPECT_LT(worst, kMaxRelativeError);
  EXPECT_EQ(polynomial(0.0f), 1.0f);
  EXPECT_TRUE(std::isnan(polynomial(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_GT(polynomial(-1000.0f), 0.0f);  // clamped, not 0 or NaN
  EXPECT_TRUE(std::isfinite(polynomial(1000.0f)));
}

TEST(VectorMath, ExpPolynomialIsWithinTwoUlp) {
  expect_exponential_within_two_ulp([](float x) { return polynomial::exp_polynomial(x); },
                                    [](double x) { return std::exp(x); }, -87.0f, 88.0f, 0.0137f);
}

TEST(VectorMath, Exp2PolynomialIsWithinTwoUlp) {
  expect_exponential_within_two_ulp([](float y) { return polynomial::exp2_polynomial(y); },
                                    [](double y) { return std::exp2(y); }, -125.9f, 126.9f, 0.00731f);
  EXPECT_EQ(polynomial::exp2_polynomial(-3.0f), 0.125f);  // whole powers are exact
  // σ from base 2: the argument -z log2(e) rounded once more, so a little
  // looser than sigmoid itself.
  for (float z = -30.0f; z <= 30.0f; z += 0.25f) {
    const double want = 1.0 / (1.0 + std::exp(-static_cast<double>(z)));
    const float y = static_cast<float>(z * math::kMinusLog2e);
    EXPECT_NEAR(polynomial::sigmoid_of_base2(y), want, 2e-6 * want) << z;
  }
}

// The CUDA kernels' copy of this polynomial (math::exponential2_polynomial,
// which tiny data sets use on the GPU) computes the same bits: the CPU's
// 2^y is what the GPU's article run gets.
TEST(VectorMath, CudaKernelsExp2PolynomialIsTheCpus) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> y = {inf, -inf, 0.0f, -0.0f, 126.0f, 126.5f, 127.0f, 127.5f, 200.0f,
                          -126.0f, -126.5f, -127.0f, -200.0f, 1e-40f, -1e-40f};
  for (int k = 0; k <= 1 << 20; ++k) y.push_back(static_cast<float>(-130.0 + 260.0 * k / (1 << 20)));
  for (const float v : y) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(math::exponential2_polynomial(v)),
              std::bit_cast<std::uint32_t>(polynomial::exp2_polynomial(v)))
        << "2^" << v;
  }
  EXPECT_TRUE(std::isnan(math::exponential2_polynomial(std::numeric_limits<float>::quiet_NaN())));
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

// Each build's vector forms against the scalar ones, bit for bit, where
// their instructions differ most: at and past the exponential's clamps,
// at infinities, NaN and signed zeros, and across the ordinary range.
struct VectorMathBuild {
  const char* name;
  testing::VectorMathLanes (*run)(const std::vector<float>&, const std::vector<float>&);
};
const VectorMathBuild kVectorMathBuilds[] = {
#define BACKPROP_CPU_ISA_BUILD(name, feature) {#name, cpu::name::vector_math_on_lanes},
#include "cpu_isas.inc"
#undef BACKPROP_CPU_ISA_BUILD
};

void PrintTo(const VectorMathBuild& build, std::ostream* os) { *os << build.name; }

class VectorMathOnIsa : public ::testing::TestWithParam<VectorMathBuild> {};

TEST_P(VectorMathOnIsa, GivesTheScalarBits) {
  const VectorMathBuild build = GetParam();
  const auto isas = cpu::runnable_isas();
  if (std::find(isas.begin(), isas.end(), build.name) == isas.end()) {
    GTEST_SKIP() << "this processor cannot run the " << build.name << " build";
  }
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> z = {nan, -nan, inf, -inf, 0.0f, -0.0f, 1000.0f, -1000.0f, 87.0f, -87.0f, 88.0f, -88.0f,
                          88.5f, -88.5f, 89.0f, -89.0f, 103.0f, -103.0f, 126.0f, -126.0f, 126.5f, -126.5f,
                          127.0f, -127.0f, 128.0f, -128.0f, 1e-40f, -1e-40f};
  for (float v = -130.0f; v <= 130.0f; v += 0.37f) z.push_back(v);
  while (z.size() % 64 != 0) z.push_back(0.125f * static_cast<float>(z.size() % 7));  // whole Packs on every build
  std::vector<float> y(z.size());
  for (std::size_t k = 0; k < y.size(); ++k) y[k] = static_cast<float>(k % 3) * 0.5f;

  const testing::VectorMathLanes got = build.run(z, y);
  auto same_bits = [](float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); };
  for (std::size_t k = 0; k < z.size(); ++k) {
    float p = 0;
    const float loss = polynomial::sigmoid_and_bce(z[k], y[k], p);
    EXPECT_PRED2(same_bits, got.exp[k], polynomial::exp_polynomial(z[k])) << "exp(" << z[k] << ")";
    EXPECT_PRED2(same_bits, got.exp2[k], polynomial::exp2_polynomial(z[k])) << "exp2(" << z[k] << ")";
    EXPECT_PRED2(same_bits, got.sigmoid[k], polynomial::sigmoid(z[k])) << "sigmoid(" << z[k] << ")";
    EXPECT_PRED2(same_bits, got.sigmoid_of_base2[k], polynomial::sigmoid_of_base2(z[k])) << "σ2(" << z[k] << ")";
    EXPECT_PRED2(same_bits, got.probability[k], p) << "probability(" << z[k] << ")";
    EXPECT_PRED2(same_bits, got.loss[k], loss) << "bce(" << z[k] << ", " << y[k] << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(CpuBuilds, VectorMathOnIsa, ::testing::ValuesIn(kVectorMathBuilds),
                         [](const auto& info) { return std::string(info.param.name); });

// Every instruction-set build gives the same bits as the generic one, for
// three shapes on the general chunk kernels (5-40-1 and 2-1025-1, past the
// narrow kernels' inputs and widths, and 5-40-3 with random targets, for
// the sums over several outputs) and five on the fused narrow ones (2-4-1,
// 3-7-1 padded to 8 hidden units, 2-19-1 padded to 32, and 2-100-1 and
// 3-600-1, padded to 128 and 1024, whose lane sums live in the work area).
// 3000 samples leave a partial block at the end of the last window; 10
// samples are one register on AVX-512 but a partial block of several on
// AVX2 and SSE; 4 samples are one register everywhere.
struct IsaCase {
  Shape shape;
  std::size_t samples;
};
void PrintTo(const IsaCase& c, std::ostream* os) {
  PrintTo(c.shape, os);
  *os << " on " << c.samples << " samples";
}
class IsaBuilds : public ::testing::TestWithParam<std::tuple<Precision, IsaCase>> {};

TEST_P(IsaBuilds, GiveBitIdenticalTraining) {
  const auto [precision, c] = GetParam();
  const Dataset data = c.shape.outputs == 1 ? testing::quadrant_data(c.samples, c.shape.inputs, 9)
                                            : testing::random_data(c.samples, c.shape.inputs, 9, c.shape.outputs);
  TrainOptions options;
  options.epochs = 20;
  options.precision = precision;
  const Parameters initial = init_xavier(c.shape, 6);
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
    EXPECT_EQ(got.params.W2, want.params.W2) << isa;
  }
}

INSTANTIATE_TEST_SUITE_P(PrecisionsAndShapes, IsaBuilds,
                         ::testing::Combine(::testing::Values(Precision::f32, Precision::f64),
                                            ::testing::Values(IsaCase{{5, 40, 1}, 3000}, IsaCase{{5, 40, 3}, 3000},
                                                              IsaCase{{2, 1025, 1}, 300},
                                                              IsaCase{{2, 19, 1}, 3000}, IsaCase{{2, 100, 1}, 3000},
                                                              IsaCase{{3, 600, 1}, 1000}, IsaCase{{2, 100, 1}, 4},
                                                              IsaCase{{2, 4, 1}, 3000},
                                                              IsaCase{{3, 7, 1}, 3000}, IsaCase{{2, 4, 1}, 10},
                                                              IsaCase{{2, 4, 1}, 4})),
                         [](const auto& info) {
                           const IsaCase& c = std::get<1>(info.param);
                           return std::string(to_string(std::get<0>(info.param))) + "_" +
                                  std::to_string(c.shape.inputs) + "x" + std::to_string(c.shape.hidden) + "x" +
                                  std::to_string(c.shape.outputs) + "_n" + std::to_string(c.samples);
                         });

// The fused kernel for narrow shapes (float only) against the float64
// reference, which runs the general kernels with libm: loss and every
// gradient, for each inputs count it specialises, hidden widths that are
// and are not padded (up to 32 its lane sums are locals, above in the work
// area), and batches that end in every kind of partial block.
// Measured worst relative error over the grid: 6.8e-6 (1-300-1 on 17
// samples, where the general float kernels give 5.8e-6; up to 32 hidden
// units, 8.1e-7).
constexpr double kNarrowTolerance = 2e-5;

class NarrowKernel : public ::testing::TestWithParam<std::tuple<Shape, std::size_t>> {};

TEST_P(NarrowKernel, GradientsMatchFloat64) {
  const auto [shape, samples] = GetParam();
  Dataset data;
  data.inputs = shape.inputs;
  data.outputs = 1;
  NumpyRandom rng(31);
  for (std::size_t k = 0; k < samples * shape.inputs; ++k) data.features.push_back(static_cast<float>(rng.normal()));
  for (std::size_t s = 0; s < samples; ++s) data.targets.push_back(static_cast<float>(rng.uniform()));
  Parameters p = init_xavier(shape, 8);
  for (std::size_t j = 0; j < shape.hidden; ++j) p.b1[j] = 0.2 * static_cast<double>(j % 3) - 0.2;
  p.b2[0] = -0.3;

  const auto backend = make_backend("cpu");
  const Gradients want = backend->start(data, p, Precision::f64)->gradients();
  const Gradients got = backend->start(data, p, Precision::f32)->gradients();
  double worst = std::fabs(got.loss - want.loss) / std::fabs(want.loss);
  auto compare = [&](const std::vector<double>& g, const std::vector<double>& w, const char* name) {
    ASSERT_EQ(g.size(), w.size()) << name;
    double scale = 0;
    for (double v : w) scale = std::max(scale, std::fabs(v));
    for (std::size_t k = 0; k < g.size(); ++k) {
      const double error = std::fabs(g[k] - w[k]) / scale;
      EXPECT_LT(error, kNarrowTolerance) << name << "[" << k << "]";
      worst = std::max(worst, error);
    }
  };
  compare(got.dW1, want.dW1, "dW1");
  compare(got.db1, want.db1, "db1");
  compare(got.dW2, want.dW2, "dW2");
  compare(got.db2, want.db2, "db2");
  EXPECT_LT(std::fabs(got.loss - want.loss) / std::fabs(want.loss), kNarrowTolerance);
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", worst);
  RecordProperty("worst_relative_error", text);
}

INSTANTIATE_TEST_SUITE_P(ShapesAndBatches, NarrowKernel,
                         ::testing::Combine(::testing::Values(Shape{1, 1, 1}, Shape{2, 4, 1}, Shape{3, 7, 1},
                                                              Shape{4, 8, 1}, Shape{2, 12, 1}, Shape{3, 32, 1},
                                                              Shape{2, 33, 1}, Shape{4, 100, 1}, Shape{1, 300, 1},
                                                              Shape{2, 1024, 1}),
                                            ::testing::Values(1, 4, 15, 17, 1030, 9000)),
                         [](const auto& info) {
                           const Shape& s = std::get<0>(info.param);
                           return std::to_string(s.inputs) + "x" + std::to_string(s.hidden) + "_n" +
                                  std::to_string(std::get<1>(info.param));
                         });

// Above kStackHidden hidden units the narrow kernel keeps its lane sums and
// activations in the session's work area, not on the stack: at 4-1024-1
// they take about half a MiB, which would overflow this thread's 256 KiB.
struct SmallStackRun {
  std::vector<double> losses;
  std::string error;
};
void* train_on_this_stack(void* out) {
  auto& run = *static_cast<SmallStackRun*>(out);
  try {
    BackendConfig config;
    config.threads = 1;  // the calling thread runs every task
    const Dataset data = testing::random_data(2000, 4, 3);
    TrainOptions options;
    options.epochs = 3;
    run.losses = train(*make_backend("cpu", config), data, init_xavier({4, 1024, 1}, 2), options).losses;
  } catch (const std::exception& e) {
    run.error = e.what();
  }
  return nullptr;
}

TEST(NarrowKernel, WideLayersTrainOnASmallStack) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
  SmallStackRun run;
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attr, train_on_this_stack, &run), 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);
  EXPECT_EQ(run.error, "");
  ASSERT_EQ(run.losses.size(), 3u);
  for (const double loss : run.losses) EXPECT_TRUE(std::isfinite(loss)) << loss;
}

TEST(IsaBuilds, UnknownIsaIsAnError) {
  BackendConfig config;
  config.cpu_isa = "neon";
  EXPECT_THROW(make_backend("cpu", config), Error);
}

}  // namespace
}  // namespace backprop
