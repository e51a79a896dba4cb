// The CUDA backend on a GPU against the CPU reference (cuda_parity_checks.hpp).
// Every test skips, naming CUDA's reason, where the cuda backend is not
// compiled in or no device is usable; none passes without running.
#include <gtest/gtest.h>

#include "backprop/backprop.hpp"
#include "concurrent_sessions.hpp"
#include "cuda_parity_checks.hpp"
#include "restarted_session.hpp"

namespace backprop {
namespace {

using namespace testing;

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

#define REQUIRE_CUDA(backend)                            \
  std::string skip_reason;                               \
  const auto backend = cuda_or_skip_reason(skip_reason); \
  if (!backend) GTEST_SKIP() << skip_reason

TEST(CudaParity, ArticleRunFollowsTheCpu) {
  REQUIRE_CUDA(cuda);
  check_article_run(*cuda, 10000);
}

// Bit for bit the host emulation's run (cuda_parity_checks.hpp), which the
// emulation's tests measure against the CPU in detail.
TEST(CudaParity, ArticleRunHasTheEmulationsBits) {
  REQUIRE_CUDA(cuda);
  check_article_bits(*cuda);
}

// Sessions of one cuda backend on several threads at once, each on its own
// stream and graph, get the bits they get alone.
TEST(CudaParity, SessionsOnSeveralThreadsAtOnce) {
  REQUIRE_CUDA(cuda);
  check_sessions_on_several_threads(*cuda);
}

TEST(CudaParity, Float64MatchesTheGoldenArticle) {
  REQUIRE_CUDA(cuda);
  check_article_float64(*cuda, 10000);
}

class CudaWide : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

TEST_P(CudaWide, FiftyEpochsMatchTheCpuWithinRelativeTolerance) {
  REQUIRE_CUDA(cuda);
  const auto [samples, hidden] = GetParam();
  check_random_run(*cuda, samples, hidden, 50);
}

INSTANTIATE_TEST_SUITE_P(SamplesByHidden, CudaWide,
                         ::testing::Combine(::testing::Values(std::size_t{1000}, std::size_t{65543}),
                                            ::testing::Values(std::size_t{4}, std::size_t{64}, std::size_t{256},
                                                              std::size_t{300}, std::size_t{1024})));

TEST(CudaParity, FirstStepGradientsMatchTheCpu) {
  REQUIRE_CUDA(cuda);
  check_first_step_gradients_on_every_path(*cuda);
}

TEST(CudaParity, FirstStepPastTheNarrowThreadsMatchesTheCpu) {
  REQUIRE_CUDA(cuda);
  check_first_step_gradients_past_the_threads(*cuda);
}

TEST(CudaDeterminism, TwoRunsAreBitIdentical) {
  REQUIRE_CUDA(cuda);
  check_two_runs_identical(*cuda, 100003, 64, 30);    // the narrow step, 8 lanes a sample
  check_two_runs_identical(*cuda, 100003, 1024, 30);  // the narrow step, 4 warps a sample
  check_two_runs_identical(*cuda, 100003, kPastNarrowHidden, 30);  // the GEMMs
}

// A new session from the parameters a stopped one handed out continues the
// run bit for bit (restarted_session.hpp): the narrow step, the GEMMs, and
// the epochs in one launch.
TEST(CudaDeterminism, ARestartedSessionContinuesTheRun) {
  REQUIRE_CUDA(cuda);
  check_restart_continues_the_run(*cuda, 100003, 64, Precision::f32);
  check_restart_continues_the_run(*cuda, 100003, 300, Precision::f32);
  check_restart_continues_the_run(*cuda, 100003, kPastNarrowHidden, Precision::f32);
  check_restart_continues_the_run(*cuda, 100, 4, Precision::f32);
  check_restart_continues_the_run(*cuda, 100, 4, Precision::f64);
}

// The GEMM path's chunk edges: one sample, fewer samples than a chunk, and
// several chunks with a short last one (hidden 1024 gives chunks of 16384
// samples).
class CudaChunkEdges : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t>> {};

TEST_P(CudaChunkEdges, MatchTheCpu) {
  REQUIRE_CUDA(cuda);
  BackendConfig config;
  config.fuse_narrow = false;
  const auto [samples, hidden] = GetParam();
  check_random_run(*make_backend("cuda", config), samples, hidden, 5);
}

INSTANTIATE_TEST_SUITE_P(Edges, CudaChunkEdges,
                         ::testing::Values(std::make_tuple(std::size_t{1}, std::size_t{4}),
                                           std::make_tuple(std::size_t{300}, std::size_t{1024}),
                                           std::make_tuple(std::size_t{3 * 16384 + 100}, std::size_t{1024})));

// Hidden 256 on the GEMMs: chunk arrays of 2^16 x 256 floats, cuBLAS's 32
// MiB workspace, parameters and partial sums. The narrow step: 18 sums
// (hidden 4), 1026 (hidden 256) or 4098 (hidden 1024) for each of 1024
// blocks, and a little more.
TEST(CudaMemory, GrowsOnlyByTheDataSet) {
  REQUIRE_CUDA(cuda);
  BackendConfig config;
  config.fuse_narrow = false;
  check_memory_grows_only_by_the_dataset(*make_backend("cuda", config), 256,
                                         std::size_t{3} * 65536 * 256 * 4 + (std::size_t{40} << 20));
  check_memory_grows_only_by_the_dataset(*cuda, 4, std::size_t{1} << 20);
  check_memory_grows_only_by_the_dataset(*cuda, 256, std::size_t{8} << 20);
  check_memory_grows_only_by_the_dataset(*cuda, 1024, std::size_t{24} << 20);
}

TEST(CudaParity, EpochsInOneLaunchMatchGraphReplays) {
  REQUIRE_CUDA(cuda);
  BackendConfig config;
  config.epochs_in_one_launch = false;
  check_epochs_in_one_launch_match_replays(*cuda, *make_backend("cuda", config));
}

// The GEMM path on shapes the narrow step would otherwise take: CudaWide's
// runs, and a first step.
TEST(CudaParity, GemmPathOnNarrowShapesMatchesTheCpu) {
  REQUIRE_CUDA(cuda);
  BackendConfig config;
  config.fuse_narrow = false;
  const auto gemms = make_backend("cuda", config);
  for (const std::size_t samples : {std::size_t{1000}, std::size_t{65543}}) {
    for (const std::size_t hidden :
         {std::size_t{4}, std::size_t{64}, std::size_t{256}, std::size_t{300}, std::size_t{1024}}) {
      SCOPED_TRACE(std::to_string(samples) + " samples, hidden " + std::to_string(hidden));
      check_random_run(*gemms, samples, hidden, 50);
    }
  }
  check_first_step_gradients(*gemms, 3001, 6);
}

// Every optimizer on the narrow step and the GEMMs (cuda_parity_checks.hpp).
class CudaOptimizers : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaOptimizers, EveryPathFollowsTheCpu) {
  REQUIRE_CUDA(cuda);
  const OptimizerGolden golden(GetParam());
  check_optimizer_follows_the_cpu(*cuda, golden);
  check_resumed_run_has_the_bits(*cuda, golden, Precision::f32, 30, 13);
  BackendConfig gemms, replays;
  gemms.fuse_narrow = false;
  replays.epochs_in_one_launch = false;
  const Shape& shape = golden.initial.shape;
  if (shape.inputs > 4 || shape.outputs != 1) return;  // the default backend took the GEMMs already
  check_optimizer_follows_the_cpu(*make_backend("cuda", gemms), golden);
  check_optimizer_one_launch_matches_replays(*cuda, *make_backend("cuda", replays), golden);
  check_resumed_run_has_the_bits(*make_backend("cuda", gemms), golden, Precision::f32, 30, 13);
}

INSTANTIATE_TEST_SUITE_P(TorchOptimCases, CudaOptimizers, ::testing::ValuesIn(full_batch_golden_cases()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace backprop
