// The CUDA backend's own sources, compiled for the host against an emulation
// of the CUDA runtime and cuBLAS (cuda_on_host/), checked against the CPU
// reference. This runs the kernels, their launch shapes, the chunking, the
// graph capture and every error path in CI, where there is no GPU; in
// CI's ThreadSanitizer build it is also a racecheck of the threads and
// blocks. It cannot show the GPU's memory ordering, how fast the GPU is or
// how cuBLAS rounds: the tests on a GPU (test_cuda_parity.cpp) stay the
// proof of the backend.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "backend_entry.hpp"
#include "backprop/backprop.hpp"
#include "cuda_on_host.hpp"
#include "cuda_parity_checks.hpp"
#include "restarted_session.hpp"
#include "cuda_runtime.h"
#include "narrow_step.cuh"

namespace backprop {

BackendEntry cuda_backend_entry();  // cuda/cuda_backend.cu

namespace {

using namespace testing;

std::unique_ptr<Backend> emulated_cuda(bool allow_tf32 = false, bool fuse_narrow = true,
                                       bool epochs_in_one_launch = true) {
  BackendConfig config;
  config.allow_tf32 = allow_tf32;
  config.fuse_narrow = fuse_narrow;
  config.epochs_in_one_launch = epochs_in_one_launch;
  return cuda_backend_entry().create(config);
}

// Every test ends with nothing allocated, captured or open.
class CudaOnHost : public ::testing::Test {
 protected:
  void TearDown() override {
    EXPECT_EQ(cuda_on_host::live_resources(), cuda_on_host::LiveResources{})
        << "left alive: " << cuda_on_host::describe(cuda_on_host::live_resources());
  }
};

TEST_F(CudaOnHost, IsUsableAndNamedCuda) {
  const BackendEntry entry = cuda_backend_entry();
  EXPECT_EQ(entry.name, "cuda");
  EXPECT_EQ(entry.unusable_reason(), "");
  EXPECT_EQ(emulated_cuda()->name(), "cuda");
}

// The emulated warp shuffle: each lane gets its partner's value, for the
// whole warp and for groups of lanes with their own masks, also when the
// groups run different numbers of rounds (as sample groups with different
// sample counts do), in either order of the threads.
TEST_F(CudaOnHost, ShufflesExchangeWithinTheirMasks) {
  for (const bool reverse : {false, true}) {
    cuda_on_host::run_in_reverse_order(reverse);
    std::vector<int> whole(64), grouped(64);
    cuda_on_host::launch(dim3(1), dim3(64), 0, nullptr, [&] {
      const unsigned t = threadIdx.x;
      whole[t] = __shfl_xor_sync(0xffffffffu, static_cast<int>(t), 5);
      const unsigned mask = 0xfu << (t % 32 / 4 * 4);
      int v = static_cast<int>(t);
      for (unsigned round = 0; round < t / 4 % 3 + 1; ++round) v = __shfl_xor_sync(mask, v, 1) + 100;
      grouped[t] = v;
    });
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    for (unsigned t = 0; t < 64; ++t) {
      EXPECT_EQ(whole[t], static_cast<int>(t ^ 5)) << "thread " << t;
      const unsigned rounds = t / 4 % 3 + 1;  // odd: the partner's value; even: its own
      EXPECT_EQ(grouped[t], static_cast<int>((rounds % 2 ? t ^ 1 : t) + 100 * rounds)) << "thread " << t;
    }
  }
  cuda_on_host::run_in_reverse_order(false);
}

// A lane that exits while its partners wait at a shuffle is a bug a GPU
// would not report; the emulation stops with the block and the lanes.
TEST(CudaOnHostDeathTest, ShuffleWithAnExitedLaneFailsLoudly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(cuda_on_host::launch(dim3(1), dim3(32), 0, nullptr,
                                    [] {
                                      if (threadIdx.x == 3) return;
                                      (void)__shfl_xor_sync(0xffffffffu, 1.0f, 1);
                                    }),
               "thread 3 has exited");
}

// Under ThreadSanitizer the emulation is a racecheck (block_fibers.cpp):
// a thread that reads what another wrote to shared memory is reported unless
// a __syncthreads lies between them. Each thread here writes its cell and
// reads its partner's (t ^ partner), with `between` in between, in blocks
// of 64 threads and of 1024 (the narrow step's widest layout; more threads
// than ThreadSanitizer has slots for, 256 in Clang's runtime).
#ifdef CUDA_ON_HOST_RACECHECK  // set by tests/CMakeLists.txt in a ThreadSanitizer build
constexpr bool kRaceCheck = true;
#else
constexpr bool kRaceCheck = false;
#endif

enum class Between { barrier, shuffle, nothing };

struct CellBlocks {
  unsigned threads, partner;  // threads a block; each reads cell t ^ partner
};
constexpr CellBlocks kCellBlocks[] = {{64, 1}, {1024, 513}};

std::vector<float> read_partners_cells(Between between, CellBlocks blocks) {
  std::vector<float> out(2 * blocks.threads);
  cuda_on_host::launch(dim3(2), dim3(blocks.threads), 0, nullptr, [&out, between, blocks] {
    __shared__ float cells[1024];
    const unsigned t = threadIdx.x;
    cells[t] = static_cast<float>(10000 * blockIdx.x + t);
    if (between == Between::barrier) __syncthreads();
    if (between == Between::shuffle) (void)__shfl_xor_sync(0xffffffffu, 0, 1);
    out[blocks.threads * blockIdx.x + t] = cells[t ^ blocks.partner];
  });
  return out;
}

// With the barrier: the partners' values, and (under ThreadSanitizer) no
// report.
TEST_F(CudaOnHost, SharedMemoryOrderedByABarrierIsNoRace) {
  for (const CellBlocks blocks : kCellBlocks) {
    const std::vector<float> out = read_partners_cells(Between::barrier, blocks);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    for (unsigned i = 0; i < 2 * blocks.threads; ++i) {
      const unsigned b = i / blocks.threads, t = i % blocks.threads;
      EXPECT_EQ(out[i], static_cast<float>(10000 * b + (t ^ blocks.partner))) << i;
    }
  }
}

TEST(CudaOnHostDeathTest, SharedMemoryWithoutABarrierIsARace) {
  if (!kRaceCheck) GTEST_SKIP() << "a race is reported only in a ThreadSanitizer build (CI's)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (const CellBlocks blocks : kCellBlocks) {
    for (const Between between : {Between::nothing, Between::shuffle}) {
      SCOPED_TRACE(std::to_string(blocks.threads) + " threads, " +
                   (between == Between::nothing ? "nothing between" : "a warp shuffle between"));
      // ThreadSanitizer's exit status after a report is 66.
      EXPECT_EXIT(
          {
            read_partners_cells(between, blocks);
            std::exit(0);
          },
          ::testing::ExitedWithCode(66), "ThreadSanitizer: data race(.|\n)*block \\([01], 0, 0\\) thread");
    }
  }
}

// Blocks run in no order on a GPU: two that write one location race, and
// the racecheck says so. It deals the blocks to its host threads afresh at
// each launch (block_fibers.cpp), so a single pair is reported within a few
// launches, and a mistake that makes many pairs collide at once.
TEST(CudaOnHostDeathTest, BlocksWritingOneLocationRace) {
  if (!kRaceCheck) GTEST_SKIP() << "a race is reported only in a ThreadSanitizer build (CI's)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  struct Collision {
    unsigned blocks, locations;  // block b writes location b % locations, if b < writers
    unsigned writers, launches;
  };
  for (const Collision& c : {Collision{2, 1, 2, 5}, Collision{8, 4, 5, 5}, Collision{1024, 256, 257, 5},
                             Collision{1024, 256, 1024, 1}}) {
    SCOPED_TRACE(std::to_string(c.writers) + " of " + std::to_string(c.blocks) + " blocks writing " +
                 std::to_string(c.locations) + " locations, " + std::to_string(c.launches) + " launches");
    EXPECT_EXIT(
        {
          std::vector<float> locations(c.locations);
          for (unsigned launch = 0; launch < c.launches; ++launch) {
            cuda_on_host::launch(dim3(c.blocks), dim3(32), 0, nullptr, [&locations, c] {
              if (threadIdx.x == 0 && blockIdx.x < c.writers) {
                locations[blockIdx.x % c.locations] = static_cast<float>(blockIdx.x);
              }
            });
          }
          std::exit(0);
        },
        ::testing::ExitedWithCode(66),
        "ThreadSanitizer: data race(.|\n)*block \\([0-9]+, 0, 0\\) thread \\(0, 0, 0\\)");
  }
}

// Sets the emulation's model of the hardware's exp2 error, 2 ulp, for a scope.
struct ModelledExp2Error {
  explicit ModelledExp2Error(cuda_on_host::Ex2Error error) { cuda_on_host::model_ex2_error(error, 2); }
  ~ModelledExp2Error() { cuda_on_host::model_ex2_error(cuda_on_host::Ex2Error::none); }
};

// The article's whole run, through its escape from the plateau near epoch
// 8450, where rounding differences grow most. The emulation rounds every
// operation as the GPU does (CMakeLists.txt: --fmad=false), and a data set
// of one block takes its exp2 from a polynomial, not from the hardware
// (narrow_exp2), so these are the bits the GPU computes, which the GPU's
// CudaDeviceMath tests back: within 2.4e-7 of the CPU's losses before
// epoch 8000 and 1.3e-4 overall.
TEST_F(CudaOnHost, ArticleRunFollowsTheCpu) { check_article_run(*emulated_cuda(), 10000); }

// Those bits, as recorded for the GPU's test (check_article_bits). After a
// change to the kernels' arithmetic, BACKPROP_WRITE_GOLDEN=path rewrites
// the file there instead.
TEST_F(CudaOnHost, ArticleRunHasTheRecordedBits) {
  const char* const path = std::getenv("BACKPROP_WRITE_GOLDEN");
  if (path == nullptr) {
    check_article_bits(*emulated_cuda());
    return;
  }
  const TrainResult run = article_run(*emulated_cuda(), 10000);
  std::ofstream out(path);
  out << "# The article's f32 run on the cuda backend's narrow path, as the host emulation computes it\n"
      << "# (tests/test_cuda_on_host.cpp): seed 42, hidden 4, lr 1.0, 10000 epochs; 17 digits, every bit\n";
  auto line = [&](const char* key, const std::vector<double>& values) {
    out << key;
    char number[32];
    for (const double v : values) {
      std::snprintf(number, sizeof number, " %.17g", v);
      out << number;
    }
    out << "\n";
  };
  line("losses", run.losses);
  line("W1", run.params.W1);
  line("b1", run.params.b1);
  line("W2", run.params.W2);
  line("b2", run.params.b2);
  ASSERT_TRUE(out.good()) << "cannot write " << path;
  GTEST_SKIP() << "wrote " << path << " instead of checking it";
}

// Which is so only if no kernel of such a run calls the hardware's exp2:
// with its error modelled (2 ulp, at random or always one way), the
// article gives the same bits, on one launch and on graph replays.
TEST_F(CudaOnHost, DataSetsOfOneBlockDoNotUseTheHardwaresExp2) {
  using cuda_on_host::Ex2Error;
  const std::size_t epochs = 20;  // any use of the hardware's exp2 moves the first epoch's bits
  for (const bool one_launch : {true, false}) {
    SCOPED_TRACE(one_launch ? "one launch" : "graph replays");
    const auto cuda = emulated_cuda(false, true, one_launch);
    const TrainResult exact = article_run(*cuda, epochs);
    for (const Ex2Error error : {Ex2Error::random, Ex2Error::low, Ex2Error::high}) {
      const ModelledExp2Error modelled(error);
      const TrainResult got = article_run(*cuda, epochs);
      EXPECT_EQ(got.losses, exact.losses) << "error model " << static_cast<int>(error);
      EXPECT_EQ(got.params.W1, exact.params.W1);
      EXPECT_EQ(got.params.b1, exact.params.b1);
      EXPECT_EQ(got.params.W2, exact.params.W2);
      EXPECT_EQ(got.params.b2, exact.params.b2);
      EXPECT_EQ(cuda->predict(got.params, Dataset::xor_points(4), Precision::f32),
                cuda->predict(exact.params, Dataset::xor_points(4), Precision::f32));
    }
  }
}

// Larger data sets do use it: with its error modelled as above, a run's
// bits move, and its losses still lie within the wide runs' bound of the
// CPU's.
TEST_F(CudaOnHost, LargerDataSetsFollowTheCpuWithTheHardwaresExp2Error) {
  using cuda_on_host::Ex2Error;
  for (const std::size_t hidden : {std::size_t{4}, std::size_t{64}}) {
    const Dataset data = random_data(1000, 2, 7);
    const Parameters initial = init_xavier({2, hidden, 1}, 8);
    TrainOptions options;
    options.epochs = 5;
    const TrainResult exact = train(*emulated_cuda(), data, initial, options);
    for (const Ex2Error error : {Ex2Error::random, Ex2Error::low, Ex2Error::high}) {
      SCOPED_TRACE("hidden " + std::to_string(hidden) + ", error model " + std::to_string(static_cast<int>(error)));
      const ModelledExp2Error modelled(error);
      EXPECT_NE(train(*emulated_cuda(), data, initial, options).losses, exact.losses);
      check_random_run(*emulated_cuda(), 1000, hidden, 5);
    }
  }
}

TEST_F(CudaOnHost, Float64FollowsTheGoldenArticle) { check_article_float64(*emulated_cuda(), 10000); }

// The GPU's test of every path (check_first_step_gradients_on_every_path),
// a case a test so that ctest runs them side by side; and the same layouts
// on fewer samples, which CI's racecheck runs (in a ThreadSanitizer build
// every barrier of a block costs as much as its threads times all the
// threads alive, and 3001 samples on every layout took minutes).
class CudaOnHostFirstStep : public CudaOnHost, public ::testing::WithParamInterface<FirstStepCase> {};

TEST_P(CudaOnHostFirstStep, GradientsMatchTheCpu) { check_first_step_gradients(*emulated_cuda(), GetParam()); }

std::vector<FirstStepCase> racecheck_first_step_cases() {
  std::vector<FirstStepCase> cases = first_step_cases_on_every_path(600);
  cases.push_back({2048 + 53, 4, 1024, 1});  // groups of two samples and of one in a block
  return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryPath, CudaOnHostFirstStep, ::testing::ValuesIn(first_step_cases_on_every_path(3001)),
                         [](const auto& info) { return to_string(info.param); });
INSTANTIATE_TEST_SUITE_P(RacecheckSizes, CudaOnHostFirstStep, ::testing::ValuesIn(racecheck_first_step_cases()),
                         [](const auto& info) { return to_string(info.param); });

TEST_F(CudaOnHost, FirstStepPastTheNarrowThreadsMatchesTheCpu) {
  check_first_step_gradients_past_the_threads(*emulated_cuda());
}

TEST_F(CudaOnHost, EpochsInOneLaunchMatchGraphReplays) {
  check_epochs_in_one_launch_match_replays(*emulated_cuda(), *emulated_cuda(false, true, false));
}

TEST_F(CudaOnHost, TwoRunsAreBitIdentical) { check_two_runs_identical(*emulated_cuda(), 3001, 64, 10); }

// The narrow step, the GEMMs and the epochs in one launch.
TEST_F(CudaOnHost, ARestartedSessionContinuesTheRun) {
  check_restart_continues_the_run(*emulated_cuda(), 1000, 4, Precision::f32);
  check_restart_continues_the_run(*emulated_cuda(), 300, 300, Precision::f32, 3);
  check_restart_continues_the_run(*emulated_cuda(), 300, kPastNarrowHidden, Precision::f32, 3);
  check_restart_continues_the_run(*emulated_cuda(), 100, 4, Precision::f32);
  check_restart_continues_the_run(*emulated_cuda(), 100, 4, Precision::f64);
}

// The device's check of the parameters after a call: a rate that is
// infinite in float32 makes every weight infinite at the first update,
// which no loss of that call shows; the call still reports divergence, on
// both paths, and waits on the device once.
TEST_F(CudaOnHost, TheLastUpdateCannotHideADivergence) {
  const Dataset data = random_data(300, 2, 4);
  for (const bool fuse : {true, false}) {
    const auto session = emulated_cuda(false, fuse)->start(data, init_xavier({2, 8, 1}, 4), Precision::f32);
    const cuda_on_host::Activity before = cuda_on_host::activity();
    try {
      session->run_epochs(1, 1e39);
      ADD_FAILURE() << "no divergence, fuse_narrow " << fuse;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::diverged);
      EXPECT_NE(std::string(e.what()).find("epoch 0 (a parameter is not finite"), std::string::npos) << e.what();
    }
    EXPECT_EQ(cuda_on_host::activity().synchronisations - before.synchronisations, 1u);
  }
}

// A session needs nothing of its backend: destroyed first, the backend
// takes nothing the session uses, and the losses are those of a session
// whose backend lives.
TEST_F(CudaOnHost, ASessionOutlivesItsBackend) {
  const Dataset data = random_data(300, 2, 4);
  for (const bool fuse : {true, false}) {
    const Parameters p = init_xavier({2, 8, 1}, 4);
    const auto want = emulated_cuda(false, fuse)->start(data, p, Precision::f32)->run_epochs(5, 0.5);
    auto backend = emulated_cuda(false, fuse);
    auto session = backend->start(data, p, Precision::f32);
    backend.reset();
    EXPECT_EQ(session->run_epochs(5, 0.5), want) << "fuse_narrow " << fuse;
  }
}

// Mini-batches are the cpu backend's so far: a session of smaller batches
// is refused, naming them; a batch of the whole data set or more is one.
TEST_F(CudaOnHost, MiniBatchesAreRefusedNamingThem) {
  const Dataset data = Dataset::xor_points(100);
  const Parameters p = init_numpy({2, 4, 1}, 42);
  Batches batches;
  batches.size = 10;
  try {
    emulated_cuda()->start(data, p, Precision::f32, {}, batches);
    ADD_FAILURE() << "batches of 10 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("batches of 10 of 100 samples need the cpu backend"), std::string::npos)
        << e.what();
  }
  batches.size = 100;
  const auto whole = emulated_cuda()->start(data, p, Precision::f32, {}, batches)->run_epochs(3, 1.0);
  EXPECT_EQ(whole, emulated_cuda()->start(data, p, Precision::f32)->run_epochs(3, 1.0));
}

// The bounds of test_cuda_parity.cpp's CudaMemory test.
TEST_F(CudaOnHost, MemoryGrowsOnlyByTheDataSet) {
  check_memory_grows_only_by_the_dataset(*emulated_cuda(false, false), 256,
                                         std::size_t{3} * 65536 * 256 * 4 + (std::size_t{40} << 20));
  check_memory_grows_only_by_the_dataset(*emulated_cuda(), 4, std::size_t{1} << 20);
  check_memory_grows_only_by_the_dataset(*emulated_cuda(), 256, std::size_t{8} << 20);
  check_memory_grows_only_by_the_dataset(*emulated_cuda(), 1024, std::size_t{24} << 20);
}

// Predictions cross a chunk boundary (2^20 samples at hidden <= 8) on both paths.
TEST_F(CudaOnHost, PredictionsAcrossChunksMatchTheCpu) {
  const Dataset data = random_data((std::size_t{1} << 20) + 5, 2, 12);
  const Parameters p = init_xavier({2, 3, 1}, 12);
  const auto want = make_backend("cpu")->predict(p, data, Precision::f32);
  for (const bool fuse : {true, false}) {
    const auto got = emulated_cuda(false, fuse)->predict(p, data, Precision::f32);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t s = 0; s < want.size(); ++s) {
      ASSERT_NEAR(got[s], want[s], kProbabilityAtol) << "sample " << s << ", fuse_narrow " << fuse;
    }
  }
}

// A GPU runs blocks, and threads between barriers, in no fixed order; the
// results must not depend on it. Reversing the emulation's order changes
// no bit, on either path.
TEST_F(CudaOnHost, ResultsDoNotDependOnTheOrderOfBlocksAndThreads) {
  const Dataset large = random_data(2000, 2, 6), small = random_data(100, 2, 6);
  // The narrow step (a thread per sample, 4 and 32 lanes and two warps per
  // sample), the GEMMs, and the narrow epochs in one launch (1 and 2 lanes
  // per sample).
  for (const auto& [data, hidden] :
       {std::pair{large, std::size_t{4}}, std::pair{large, std::size_t{27}}, std::pair{large, std::size_t{256}},
        std::pair{large, std::size_t{300}}, std::pair{large, kPastNarrowHidden}, std::pair{small, std::size_t{4}},
        std::pair{small, std::size_t{16}}}) {
    const Parameters initial = init_xavier({2, hidden, 1}, 6);
    TrainOptions options;
    options.epochs = 4;
    const TrainResult in_order = train(*emulated_cuda(), data, initial, options);
    cuda_on_host::run_in_reverse_order(true);
    const TrainResult reversed = train(*emulated_cuda(), data, initial, options);
    cuda_on_host::run_in_reverse_order(false);
    SCOPED_TRACE(std::to_string(data.samples()) + " samples, hidden " + std::to_string(hidden));
    EXPECT_EQ(in_order.losses, reversed.losses);
    EXPECT_EQ(in_order.params.W1, reversed.params.W1);
    EXPECT_EQ(in_order.params.b2, reversed.params.b2);
  }
}

// Hidden widths across the column-tile sizes (1, 4, 32 lanes and several
// tiles), row counts across the row-block size, and the chunk edges: one
// sample, fewer than a chunk, and two chunks with a last one of 100 rows
// (hidden 1024 gives the GEMMs chunks of 16384 samples). Narrow shapes,
// up to 1024 hidden units, run on both the fused narrow step and the GEMMs.
class CudaOnHostRuns
    : public CudaOnHost,
      public ::testing::WithParamInterface<std::tuple<std::size_t, std::size_t, std::size_t, bool>> {};

TEST_P(CudaOnHostRuns, MatchTheCpu) {
  const auto [samples, hidden, epochs, fuse_narrow] = GetParam();
  check_random_run(*emulated_cuda(false, fuse_narrow), samples, hidden, epochs);
}

INSTANTIATE_TEST_SUITE_P(SamplesHiddenEpochsFused, CudaOnHostRuns,
                         ::testing::Values(std::make_tuple(std::size_t{1}, std::size_t{4}, std::size_t{5}, true),
                                           std::make_tuple(std::size_t{1}, std::size_t{4}, std::size_t{5}, false),
                                           std::make_tuple(std::size_t{1000}, std::size_t{1}, std::size_t{10}, true),
                                           std::make_tuple(std::size_t{1000}, std::size_t{1}, std::size_t{10}, false),
                                           std::make_tuple(std::size_t{1000}, std::size_t{4}, std::size_t{10}, true),
                                           std::make_tuple(std::size_t{1000}, std::size_t{4}, std::size_t{10}, false),
                                           std::make_tuple(std::size_t{1000}, std::size_t{8}, std::size_t{10}, true),
                                           std::make_tuple(std::size_t{1000}, std::size_t{13}, std::size_t{10}, true),
                                           std::make_tuple(std::size_t{1000}, std::size_t{32}, std::size_t{10}, true),
                                           std::make_tuple(std::size_t{1000}, std::size_t{32}, std::size_t{10}, false),
                                           std::make_tuple(std::size_t{1000}, std::size_t{64}, std::size_t{10}, true),
                                           std::make_tuple(std::size_t{1000}, std::size_t{256}, std::size_t{4}, true),
                                           std::make_tuple(std::size_t{1000}, std::size_t{256}, std::size_t{4}, false),
                                           std::make_tuple(std::size_t{65543}, std::size_t{4}, std::size_t{3}, true),
                                           std::make_tuple(std::size_t{65543}, std::size_t{4}, std::size_t{3}, false),
                                           std::make_tuple(std::size_t{1}, std::size_t{1024}, std::size_t{5}, true),
                                           std::make_tuple(std::size_t{300}, std::size_t{1024}, std::size_t{2}, true),
                                           std::make_tuple(std::size_t{16384 + 100}, std::size_t{1024}, std::size_t{2},
                                                           true),
                                           std::make_tuple(std::size_t{16384 + 100}, std::size_t{1024}, std::size_t{2},
                                                           false)),
                         [](const auto& info) {  // std::get: a binding's commas would split the macro's arguments
                           return "N" + std::to_string(std::get<0>(info.param)) + "_hidden" +
                                  std::to_string(std::get<1>(info.param)) + "_epochs" +
                                  std::to_string(std::get<2>(info.param)) +
                                  (std::get<3>(info.param) ? "" : "_gemms_only");
                         });

// Every optimizer on each path: the narrow step with its epochs in one
// launch (XOR's four samples) and with one graph replay per epoch, and the
// GEMMs (every case; the breast cancer data's 30 features take them
// anyway, as do iris's three outputs). The first kOptimizerEpochs of each
// case, several run_epochs calls: the emulation's time goes to the
// arithmetic a GPU does in microseconds, and CI runs it under ASan and
// qemu too. test_cuda_parity.cpp runs the whole cases on a GPU.
constexpr std::size_t kOptimizerEpochs = 60;

class CudaOnHostOptimizers : public CudaOnHost, public ::testing::WithParamInterface<std::string> {};

TEST_P(CudaOnHostOptimizers, EveryPathFollowsTheCpu) {
  const OptimizerGolden golden(GetParam());
  {
    SCOPED_TRACE("gemms");
    check_optimizer_follows_the_cpu(*emulated_cuda(false, false), golden, kOptimizerEpochs);
  }
  const Shape& shape = golden.initial.shape;
  if (!cuda::fits_narrow_step(shape.inputs, shape.hidden, shape.outputs)) return;
  {
    SCOPED_TRACE("narrow step, epochs in one launch");
    check_optimizer_follows_the_cpu(*emulated_cuda(), golden, kOptimizerEpochs);
  }
  SCOPED_TRACE("narrow step, a graph replay per epoch");
  check_optimizer_follows_the_cpu(*emulated_cuda(false, true, false), golden, kOptimizerEpochs);
}

TEST_P(CudaOnHostOptimizers, OneLaunchHasTheBitsOfReplays) {
  const OptimizerGolden golden(GetParam());
  const Shape& shape = golden.initial.shape;
  if (!cuda::fits_narrow_step(shape.inputs, shape.hidden, shape.outputs)) {
    GTEST_SKIP() << golden.name << " does not take the narrow step";
  }
  check_optimizer_one_launch_matches_replays(*emulated_cuda(), *emulated_cuda(false, true, false), golden,
                                             kOptimizerEpochs);
}

TEST_P(CudaOnHostOptimizers, AResumedRunHasTheBitsOfOneRun) {
  const OptimizerGolden golden(GetParam());
  for (const auto& backend : {emulated_cuda(), emulated_cuda(false, true, false), emulated_cuda(false, false)}) {
    check_resumed_run_has_the_bits(*backend, golden, Precision::f32, 20, 7);
  }
}

INSTANTIATE_TEST_SUITE_P(TorchOptimCases, CudaOnHostOptimizers, ::testing::ValuesIn(full_batch_golden_cases()),
                         [](const auto& info) { return info.param; });

static_assert(kPastNarrowHidden == cuda::kNarrowMaxHidden + 1, "cuda_parity_checks.hpp's shape past the narrow step");

// A narrow network trains without a GEMM; the others run five per chunk.
TEST_F(CudaOnHost, NarrowNetworksTrainWithoutGemms) {
  const Dataset data = random_data(300, 2, 4);
  for (const std::size_t hidden :
       {std::size_t{4}, std::size_t{9}, std::size_t{256}, std::size_t{257}, std::size_t{1024}, kPastNarrowHidden}) {
    for (const bool fuse : {true, false}) {
      const auto session = emulated_cuda(false, fuse)->start(data, init_xavier({2, hidden, 1}, 4), Precision::f32);
      const cuda_on_host::Activity before = cuda_on_host::activity();
      session->run_epochs(3, 0.5);
      const std::size_t gemms = cuda_on_host::activity().gemms - before.gemms;
      EXPECT_EQ(gemms, fuse && hidden < kPastNarrowHidden ? 0u : 5u) << "hidden " << hidden << ", fuse_narrow " << fuse;
    }
  }
}

// cuBLAS runs strict FP32 unless TF32 is asked for.
TEST_F(CudaOnHost, Tf32OnlyWhenAllowed) {
  const Dataset data = random_data(300, 2, 4);
  const Parameters p = init_xavier({2, kPastNarrowHidden, 1}, 4);
  for (const bool allow : {false, true}) {
    const cuda_on_host::Activity before = cuda_on_host::activity();
    emulated_cuda(allow)->start(data, p, Precision::f32)->gradients();
    const cuda_on_host::Activity after = cuda_on_host::activity();
    EXPECT_EQ(after.gemms - before.gemms, 5u) << "allow_tf32 " << allow;  // one chunk
    EXPECT_EQ(after.tf32_gemms - before.tf32_gemms, allow ? 5u : 0u) << "allow_tf32 " << allow;
  }
}

// Every device allocation of a session is in its memory_bytes(), which the
// GPU memory benchmarks and the test above rely on.
TEST_F(CudaOnHost, MemoryBytesCountsEveryDeviceAllocation) {
  const Dataset data = random_data(5000, 3, 9);
  // The GEMMs; the narrow step with one lane and with 16 lanes a sample.
  for (const std::size_t hidden : {kPastNarrowHidden, std::size_t{5}, std::size_t{70}}) {
    const Parameters p = init_xavier({3, hidden, 1}, 9);
    for (const Precision precision : {Precision::f32, Precision::f64}) {
      const auto session = emulated_cuda()->start(data, p, precision);
      EXPECT_EQ(session->memory_bytes(), cuda_on_host::live_resources().bytes) << to_string(precision);
      session->run_epochs(2, 0.5);  // allocates the loss array
      EXPECT_EQ(session->memory_bytes(), cuda_on_host::live_resources().bytes) << to_string(precision);
    }
  }
}

// No host synchronisation inside the epoch loop: a run_epochs call replays
// the captured epoch once per epoch, and waits on the device and copies to
// the host once, however many epochs it runs. The epoch is captured again
// only for a new learning rate or more epochs than the loss array holds.
TEST_F(CudaOnHost, EpochsReplayOneGraphAndWaitOncePerCall) {
  const Dataset data = random_data(700, 2, 3);
  const auto session = emulated_cuda()->start(data, init_xavier({2, 5, 1}, 3), Precision::f32);
  auto run = [&](std::size_t epochs, double lr) {
    const cuda_on_host::Activity before = cuda_on_host::activity();
    session->run_epochs(epochs, lr);
    const cuda_on_host::Activity after = cuda_on_host::activity();
    return cuda_on_host::Activity{after.synchronisations - before.synchronisations,
                                  after.copies_to_host - before.copies_to_host, after.captures - before.captures,
                                  after.graph_launches - before.graph_launches,
                                  after.work_outside_graphs - before.work_outside_graphs};
  };
  const auto first = run(12, 0.5);
  EXPECT_EQ(first.captures, 1u);
  EXPECT_EQ(first.graph_launches, 12u);
  const auto few = run(3, 0.5), many = run(12, 0.5);
  EXPECT_EQ(few.captures, 0u);
  EXPECT_EQ(many.captures, 0u);
  EXPECT_EQ(few.graph_launches, 3u);
  EXPECT_EQ(many.graph_launches, 12u);
  EXPECT_EQ(many.synchronisations, 1u);
  EXPECT_EQ(many.copies_to_host, 1u);
  EXPECT_EQ(few.synchronisations, many.synchronisations);
  EXPECT_EQ(few.work_outside_graphs, many.work_outside_graphs);
  EXPECT_EQ(run(12, 0.25).captures, 1u);  // a new rate
  EXPECT_EQ(run(13, 0.25).captures, 1u);  // a longer loss array
}

// A narrow network on at most one block's samples runs a call's epochs as
// one launch: no graph, and the same work outside graphs for 5 epochs as
// for 50.
TEST_F(CudaOnHost, SmallDataSetsRunTheirEpochsInOneLaunch) {
  const Dataset data = random_data(256, 2, 3);
  const auto session = emulated_cuda()->start(data, init_xavier({2, 5, 1}, 3), Precision::f32);
  auto run = [&](std::size_t epochs) {
    const cuda_on_host::Activity before = cuda_on_host::activity();
    session->run_epochs(epochs, 0.5);
    const cuda_on_host::Activity after = cuda_on_host::activity();
    EXPECT_EQ(after.captures, before.captures);
    EXPECT_EQ(after.graph_launches, before.graph_launches);
    EXPECT_EQ(after.synchronisations - before.synchronisations, 1u);
    return after.work_outside_graphs - before.work_outside_graphs;
  };
  EXPECT_EQ(run(5), run(50));
}

TEST_F(CudaOnHost, OutOfMemoryNamesTheBytesAndLeaksNothing) {
  cuda_on_host::set_device_memory(std::size_t{1} << 20);
  const Dataset data = random_data(100000, 2, 1);  // 1.2 MB of data set
  try {
    emulated_cuda()->start(data, init_xavier({2, 8, 1}, 1), Precision::f32);
    ADD_FAILURE() << "a session larger than the device started";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cudaMalloc of "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cudaErrorMemoryAllocation"), std::string::npos) << e.what();
  }
  cuda_on_host::set_device_memory(std::size_t{16} << 30);
}

// Makes each CUDA and cuBLAS call of a whole session fail in turn: each
// failure must surface as backprop::Error naming that call and CUDA's
// message, free everything, and leave nothing behind that breaks the next
// session (CUDA keeps a failed call's error for the next cudaGetLastError).
class CudaOnHostFailures : public CudaOnHost, public ::testing::WithParamInterface<bool> {};

TEST_P(CudaOnHostFailures, EveryFailingCallBecomesAnErrorAndLeaksNothing) {
  const auto cuda = emulated_cuda(false, GetParam());
  const Dataset data = random_data(700, 2, 3), small = random_data(40, 2, 4);
  const Parameters p = init_xavier({2, 5, 1}, 3);  // narrow: the fused step if allowed
  auto session_life = [&] {
    auto session = cuda->start(data, p, Precision::f32);
    session->run_epochs(3, 0.5);
    session->run_epochs(2, 0.25);  // a new rate: the epoch graph is captured again
    session->gradients();
    session->parameters();
    cuda->predict(p, data, Precision::f32);
    cuda->start(small, p, Precision::f32)->run_epochs(3, 0.5);  // fused: the epochs in one launch
  };
  const std::size_t before = cuda_on_host::calls_made();
  session_life();
  const std::size_t calls = cuda_on_host::calls_made() - before;
  ASSERT_GT(calls, 50u);
  for (std::size_t n = 1; n <= calls; ++n) {
    cuda_on_host::fail_call(n);
    try {
      session_life();
      ADD_FAILURE() << "call " << n << " (" << cuda_on_host::failed_call() << ") failed, and the session went on";
    } catch (const Error& e) {
      const std::string message = e.what(), call = cuda_on_host::failed_call();
      ASSERT_FALSE(call.empty()) << "call " << n << ": an error without a failed call: " << message;
      // A failed launch is reported by cudaGetLastError, and named after the kernel.
      const std::string named = call == "cudaGetLastError" ? "launch of " : call;
      EXPECT_NE(message.find(named), std::string::npos) << "call " << n << " (" << call << "): " << message;
      const bool cublas = call.rfind("cublas", 0) == 0;
      EXPECT_NE(message.find(cublas ? "CUBLAS_STATUS_" : "cudaErrorUnknown"), std::string::npos)
          << "call " << n << " (" << call << "): " << message;
    }
    ASSERT_EQ(cuda_on_host::live_resources(), cuda_on_host::LiveResources{})
        << "after call " << n << " (" << cuda_on_host::failed_call()
        << ") failed, left alive: " << cuda_on_host::describe(cuda_on_host::live_resources());
  }
  cuda_on_host::fail_call(0);
  session_life();  // and all is well again
}

INSTANTIATE_TEST_SUITE_P(NarrowStepAndGemms, CudaOnHostFailures, ::testing::Bool());

}  // namespace
}  // namespace backprop
