// The CUDA backend against the CPU reference. Every test skips, naming
// CUDA's reason, where the cuda backend is not compiled in or no device is
// usable; none passes without running.
#include <gtest/gtest.h>

#include <cmath>

#include "backprop/backprop.hpp"
#include "golden_file.hpp"
#include "numpy_random.hpp"

namespace backprop {
namespace {

// The plateau amplifies the GEMMs' different summation order; before it
// ends (epoch 8000) the two agree closely, after it within the f32/f64 gap.
constexpr double kArticleLossAtolBeforePlateauEnd = 1e-5;
constexpr double kArticleLossAtol = 2e-3;
constexpr double kArticleParamAtol = 1e-3;
constexpr double kWideLossRtol = 1e-4;
constexpr double kF64LossAtol = 1e-9;
constexpr double kGradientRtol = 1e-4;  // first step, f32, normalised by the largest component

std::unique_ptr<Backend> cuda_or_skip_reason(std::string& reason) {
  for (const auto& info : list_backends()) {
    if (info.name != "cuda") continue;
    if (!info.usable) {
      reason = "cuda backend unusable: " + info.reason;
      return nullptr;
    }
    return make_backend("cuda");
  }
  reason = "cuda backend not compiled into this build";
  return nullptr;
}

#define REQUIRE_CUDA(backend)                          \
  std::string skip_reason;                             \
  const auto backend = cuda_or_skip_reason(skip_reason); \
  if (!backend) GTEST_SKIP() << skip_reason

// Random features in [-2, 2) and random targets in [0, 1].
Dataset random_data(std::size_t samples, std::size_t inputs, std::uint32_t seed) {
  NumpyRandom rng(seed);
  Dataset d;
  d.inputs = inputs;
  d.outputs = 1;
  d.features.resize(samples * inputs);
  d.targets.resize(samples);
  for (float& x : d.features) x = static_cast<float>(4 * rng.uniform() - 2);
  for (float& y : d.targets) y = static_cast<float>(rng.uniform());
  return d;
}

TEST(CudaParity, ArticleRunFollowsTheCpu) {
  REQUIRE_CUDA(cuda);
  const auto cpu = make_backend("cpu");
  const Dataset data = Dataset::xor_points(4);
  const Parameters initial = init_numpy({2, 4, 1}, 42);
  const TrainOptions options;  // 10000 epochs, lr 1, f32
  const TrainResult want = train(*cpu, data, initial, options);
  const TrainResult got = train(*cuda, data, initial, options);
  ASSERT_EQ(got.losses.size(), want.losses.size());
  for (std::size_t e = 0; e < want.losses.size(); ++e) {
    const double tolerance = e < 8000 ? kArticleLossAtolBeforePlateauEnd : kArticleLossAtol;
    ASSERT_NEAR(got.losses[e], want.losses[e], tolerance) << "epoch " << e;
  }
  for (std::size_t k = 0; k < want.params.W1.size(); ++k) EXPECT_NEAR(got.params.W1[k], want.params.W1[k], kArticleParamAtol);
  for (std::size_t k = 0; k < want.params.b1.size(); ++k) EXPECT_NEAR(got.params.b1[k], want.params.b1[k], kArticleParamAtol);
  for (std::size_t k = 0; k < want.params.W2.size(); ++k) EXPECT_NEAR(got.params.W2[k], want.params.W2[k], kArticleParamAtol);
  EXPECT_NEAR(got.params.b2[0], want.params.b2[0], kArticleParamAtol);
  const auto p_cpu = cpu->predict(want.params, data, Precision::f32);
  const auto p_cuda = cuda->predict(got.params, data, Precision::f32);
  for (std::size_t s = 0; s < 4; ++s) EXPECT_EQ(p_cuda[s] > 0.5, p_cpu[s] > 0.5) << "sample " << s;
}

TEST(CudaParity, Float64MatchesTheGoldenArticle) {
  REQUIRE_CUDA(cuda);
  const testing::GoldenFile golden(testing::data_path("golden/article.txt"));
  TrainOptions options;
  options.precision = Precision::f64;
  const TrainResult got = train(*cuda, Dataset::xor_points(4), init_numpy({2, 4, 1}, 42), options);
  const auto want = golden.numbers("losses");
  ASSERT_EQ(got.losses.size(), want.size());
  for (std::size_t e = 0; e < want.size(); ++e) ASSERT_NEAR(got.losses[e], want[e], kF64LossAtol) << "epoch " << e;
}

class CudaWide : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

TEST_P(CudaWide, FiftyEpochsMatchTheCpuWithinRelativeTolerance) {
  REQUIRE_CUDA(cuda);
  const auto [samples, hidden] = GetParam();
  const auto cpu = make_backend("cpu");
  const Dataset data = random_data(samples, 2, static_cast<std::uint32_t>(samples + hidden));
  const Parameters initial = init_xavier({2, hidden, 1}, 8);
  TrainOptions options;
  options.epochs = 50;
  options.lr = 0.5;
  const TrainResult want = train(*cpu, data, initial, options);
  const TrainResult got = train(*cuda, data, initial, options);
  for (std::size_t e = 0; e < want.losses.size(); ++e) {
    ASSERT_NEAR(got.losses[e], want.losses[e], kWideLossRtol * std::fabs(want.losses[e])) << "epoch " << e;
  }
}

INSTANTIATE_TEST_SUITE_P(SamplesByHidden, CudaWide,
                         ::testing::Combine(::testing::Values(std::size_t{1000}, std::size_t{65543}),
                                            ::testing::Values(std::size_t{4}, std::size_t{64}, std::size_t{256})));

TEST(CudaParity, FirstStepGradientsMatchTheCpu) {
  REQUIRE_CUDA(cuda);
  const auto cpu = make_backend("cpu");
  const Dataset data = random_data(3001, 3, 5);
  const Parameters p = init_xavier({3, 40, 1}, 2);
  const Gradients want = cpu->start(data, p, Precision::f32)->gradients();
  const Gradients got = cuda->start(data, p, Precision::f32)->gradients();
  EXPECT_NEAR(got.loss, want.loss, kGradientRtol * want.loss);
  auto compare = [](const std::vector<double>& g, const std::vector<double>& w, const char* name) {
    ASSERT_EQ(g.size(), w.size()) << name;
    double scale = 0;
    for (double v : w) scale = std::max(scale, std::fabs(v));
    for (std::size_t k = 0; k < w.size(); ++k) EXPECT_NEAR(g[k], w[k], kGradientRtol * scale) << name << "[" << k << "]";
  };
  compare(got.dW1, want.dW1, "dW1");
  compare(got.db1, want.db1, "db1");
  compare(got.dW2, want.dW2, "dW2");
  compare(got.db2, want.db2, "db2");
}

TEST(CudaDeterminism, TwoRunsAreBitIdentical) {
  REQUIRE_CUDA(cuda);
  const Dataset data = random_data(100003, 2, 17);
  const Parameters initial = init_xavier({2, 64, 1}, 3);
  TrainOptions options;
  options.epochs = 30;
  options.log_every = 7;
  const TrainResult a = train(*cuda, data, initial, options);
  const TrainResult b = train(*cuda, data, initial, options);
  EXPECT_EQ(a.losses, b.losses);
  EXPECT_EQ(a.params.W1, b.params.W1);
  EXPECT_EQ(a.params.W2, b.params.W2);
}

// Chunk edges: one sample, fewer samples than a chunk, and several chunks
// with a short last one (hidden 1024 gives chunks of 16384 samples).
class CudaChunkEdges : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

TEST_P(CudaChunkEdges, MatchTheCpu) {
  REQUIRE_CUDA(cuda);
  const auto [samples, hidden] = GetParam();
  const auto cpu = make_backend("cpu");
  const Dataset data = random_data(samples, 2, 23);
  const Parameters initial = init_xavier({2, hidden, 1}, 4);
  TrainOptions options;
  options.epochs = 5;
  const TrainResult want = train(*cpu, data, initial, options);
  const TrainResult got = train(*cuda, data, initial, options);
  for (std::size_t e = 0; e < want.losses.size(); ++e) {
    EXPECT_NEAR(got.losses[e], want.losses[e], kWideLossRtol * std::fabs(want.losses[e])) << "epoch " << e;
  }
  const auto p_cpu = cpu->predict(want.params, data, Precision::f32);
  const auto p_cuda = cuda->predict(got.params, data, Precision::f32);
  ASSERT_EQ(p_cuda.size(), p_cpu.size());
  for (std::size_t s = 0; s < p_cpu.size(); ++s) ASSERT_NEAR(p_cuda[s], p_cpu[s], 1e-4) << "sample " << s;
}

INSTANTIATE_TEST_SUITE_P(Edges, CudaChunkEdges,
                         ::testing::Values(std::make_tuple(std::size_t{1}, std::size_t{4}),
                                           std::make_tuple(std::size_t{300}, std::size_t{1024}),
                                           std::make_tuple(std::size_t{3 * 16384 + 100}, std::size_t{1024})));

// Device memory is the data set plus O(chunk x hidden): past one chunk, more
// samples cost exactly their features and targets (12 bytes each here).
TEST(CudaMemory, GrowsOnlyByTheDataSet) {
  REQUIRE_CUDA(backend);
  const Parameters p = init_xavier({2, 256, 1}, 3);
  const std::size_t small_n = std::size_t{1} << 20, large_n = std::size_t{1} << 22;  // chunk: 2^16 rows
  const Dataset small = Dataset::xor_points(small_n);
  const Dataset large = Dataset::xor_points(large_n);
  const auto small_session = backend->start(small, p, Precision::f32);
  const auto large_session = backend->start(large, p, Precision::f32);
  EXPECT_EQ(large_session->memory_bytes() - small_session->memory_bytes(), (large_n - small_n) * 3 * sizeof(float));
  // What is not the data set: chunk arrays of 2^16 x 256 floats, cuBLAS's
  // 32 MiB workspace, parameters and partial sums.
  const std::size_t dataset_bytes = large_n * 3 * sizeof(float);
  EXPECT_LT(large_session->memory_bytes() - dataset_bytes, std::size_t{3} * 65536 * 256 * 4 + (std::size_t{40} << 20));
}

}  // namespace
}  // namespace backprop
