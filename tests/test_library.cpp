// The public API's contracts: the registry, input checks, divergence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "backprop/backprop.hpp"

namespace backprop {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Registry, ListsCpuLastAndUsable) {
  const auto all = list_backends();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().name, "cpu");
  EXPECT_TRUE(all.back().usable);
  EXPECT_TRUE(all.back().reason.empty());
  for (const auto& info : all) EXPECT_EQ(info.usable, info.reason.empty()) << info.name;
}

TEST(Registry, MakesCpuAndAuto) {
  EXPECT_EQ(make_backend("cpu")->name(), "cpu");
  const auto all = list_backends();
  const auto first_usable = std::find_if(all.begin(), all.end(), [](const auto& i) { return i.usable; });
  ASSERT_NE(first_usable, all.end());
  EXPECT_EQ(make_backend("auto")->name(), first_usable->name);
}

TEST(Registry, UnknownNameSaysWhatExists) {
  const std::string message = error_of([] { make_backend("tpu"); });
  EXPECT_NE(message.find("unknown backend 'tpu'"), std::string::npos) << message;
  EXPECT_NE(message.find("cpu"), std::string::npos) << message;
}

TEST(Registry, UnusableBackendGivesItsReason) {
  for (const auto& info : list_backends()) {
    if (info.usable) continue;
    const std::string message = error_of([&] { make_backend(info.name); });
    EXPECT_NE(message.find(info.reason), std::string::npos) << message;
  }
}

TEST(Precision, ParsesAndRejects) {
  EXPECT_EQ(parse_precision("f32"), Precision::f32);
  EXPECT_EQ(parse_precision("f64"), Precision::f64);
  EXPECT_NE(error_of([] { parse_precision("f16"); }).find("'f16'"), std::string::npos);
}

TEST(Train, RejectsBadOptions) {
  const auto backend = make_backend("cpu");
  const Dataset data = Dataset::xor_points(4);
  const Parameters p = init_numpy({2, 4, 1}, 1);
  TrainOptions o;
  o.epochs = 0;
  EXPECT_NE(error_of([&] { train(*backend, data, p, o); }).find("epochs"), std::string::npos);
  o.epochs = 10;
  for (double lr : {0.0, -1.0, std::nan(""), double(INFINITY)}) {
    o.lr = lr;
    EXPECT_NE(error_of([&] { train(*backend, data, p, o); }).find("learning rate"), std::string::npos) << lr;
  }
}

// A session may read the caller's data set in place, so start() refuses a
// temporary one, which would be gone before the first epoch.
template <class D>
concept StartsOn = requires(const Backend& backend, D&& data, const Parameters& params) {
  backend.start(std::forward<D>(data), params, Precision::f32);
};
static_assert(StartsOn<Dataset&> && StartsOn<const Dataset&>);
static_assert(!StartsOn<Dataset> && !StartsOn<Dataset&&>);

// A session driven directly checks its rate too, and a refused call leaves
// the parameters as they were.
TEST(Train, SessionRejectsABadRateAndKeepsItsParameters) {
  const auto backend = make_backend("cpu");
  const Parameters p = init_numpy({2, 4, 1}, 1);
  const Dataset data = Dataset::xor_points(4);
  const auto session = backend->start(data, p, Precision::f64);
  for (double lr : {0.0, -0.5, std::nan(""), -double(INFINITY)}) {
    EXPECT_NE(error_of([&] { session->run_epochs(3, lr); }).find("learning rate"), std::string::npos) << lr;
  }
  EXPECT_EQ(session->parameters().W1, p.W1);
  EXPECT_TRUE(session->run_epochs(0, 1.0).empty());
  EXPECT_EQ(session->run_epochs(2, 1.0).size(), 2u);
}

TEST(Train, RejectsMismatchedShapes) {
  const auto backend = make_backend("cpu");
  const Dataset data = Dataset::xor_points(4);
  const std::string message = error_of([&] { backend->start(data, init_numpy({3, 4, 1}, 1), Precision::f32); });
  EXPECT_NE(message.find("3 inputs"), std::string::npos) << message;
  Parameters broken = init_numpy({2, 4, 1}, 1);
  broken.W2.pop_back();
  EXPECT_NE(error_of([&] { backend->predict(broken, data, Precision::f32); }).find("W2"), std::string::npos);
  broken = init_numpy({2, 4, 1}, 1);
  broken.b1[2] = NAN;
  EXPECT_NE(error_of([&] { backend->start(data, broken, Precision::f64); }).find("b1[2]"), std::string::npos);
}

TEST(Train, DivergenceStopsWithTheEpoch) {
  const auto backend = make_backend("cpu");
  TrainOptions o;
  o.epochs = 100;
  o.lr = 1e39;  // beyond float32: the first update sends the weights to infinity
  const std::string message =
      error_of([&] { train(*backend, Dataset::xor_points(4), init_numpy({2, 4, 1}, 42), o); });
  // Epoch 0's loss comes before the update; at epoch 1 the infinite weights
  // meet the zero features (0 · inf) and the loss is NaN, named without the
  // sign bit that printf would show.
  EXPECT_NE(message.find("training diverged at epoch 1 (loss nan)"), std::string::npos) << message;
}

TEST(Train, LogsEveryLogPointAndReturnsEveryLoss) {
  const auto backend = make_backend("cpu");
  TrainOptions o;
  o.epochs = 25;
  o.log_every = 10;
  std::vector<std::size_t> logged;
  std::vector<double> logged_losses;
  const auto r = train(*backend, Dataset::xor_points(4), init_numpy({2, 4, 1}, 42), o,
                       [&](std::size_t e, double loss) {
                         logged.push_back(e);
                         logged_losses.push_back(loss);
                       });
  EXPECT_EQ(logged, (std::vector<std::size_t>{0, 10, 20}));
  ASSERT_EQ(r.losses.size(), 25u);
  EXPECT_EQ(logged_losses, (std::vector<double>{r.losses[0], r.losses[10], r.losses[20]}));
}

TEST(Train, SegmentsDoNotChangeTheTrajectory) {
  const auto backend = make_backend("cpu");
  TrainOptions o;
  o.epochs = 300;
  o.log_every = 0;
  const auto whole = train(*backend, Dataset::xor_points(4), init_numpy({2, 4, 1}, 42), o);
  o.log_every = 7;
  const auto pieces = train(*backend, Dataset::xor_points(4), init_numpy({2, 4, 1}, 42), o);
  EXPECT_EQ(whole.losses, pieces.losses);
  EXPECT_EQ(whole.params.W1, pieces.params.W1);
}

TEST(Session, GradientsChangeNothing) {
  const auto backend = make_backend("cpu");
  const Dataset data = Dataset::xor_points(4);
  const Parameters p = init_numpy({2, 4, 1}, 42);
  auto session = backend->start(data, p, Precision::f64);
  const Gradients g1 = session->gradients();
  const Gradients g2 = session->gradients();
  EXPECT_EQ(g1.dW1, g2.dW1);
  EXPECT_EQ(session->parameters().W1, p.W1);
  EXPECT_EQ(session->run_epochs(1, 1.0).at(0), g1.loss);
  EXPECT_NE(session->parameters().W1, p.W1);
}

std::unique_ptr<Backend> cpu_with_two_threads() {
  BackendConfig config;
  config.threads = 2;
  return make_backend("cpu", config);
}

// The CPU session reads the data set in place: its own memory is per-worker
// chunk arrays and at most 64 segments' partial sums, the same for 2^20 and
// 2^22 samples, and does not grow as epochs run.
TEST(Session, CpuMemoryDoesNotGrowWithTheDataSet) {
  const auto backend = cpu_with_two_threads();
  const Parameters p = init_xavier({2, 64, 1}, 3);
  const Dataset small = Dataset::xor_points(std::size_t{1} << 20);
  const Dataset large = Dataset::xor_points(std::size_t{1} << 22);
  auto small_session = backend->start(small, p, Precision::f32);
  auto large_session = backend->start(large, p, Precision::f32);
  EXPECT_EQ(small_session->memory_bytes(), large_session->memory_bytes());
  EXPECT_LT(large_session->memory_bytes(), std::size_t{1} << 20);
  EXPECT_GT(large_session->memory_bytes(), 0u);
  const std::size_t before = small_session->memory_bytes();
  small_session->run_epochs(2, 0.1);
  EXPECT_EQ(small_session->memory_bytes(), before);
}

// The narrow float kernel keeps a sample's work in registers: its sessions
// allocate no per-worker scratch, which the general kernels (float64 here)
// need: (inputs + 2 hidden + 3) x 4096 values per worker at hidden 4.
TEST(Session, NarrowFloatSessionsAllocateNoScratch) {
  const auto backend = cpu_with_two_threads();
  const Parameters p = init_xavier({2, 4, 1}, 3);
  const Dataset data = Dataset::xor_points(std::size_t{1} << 16);
  const std::size_t narrow = backend->start(data, p, Precision::f32)->memory_bytes();
  const std::size_t general = backend->start(data, p, Precision::f64)->memory_bytes();
  EXPECT_LT(narrow, std::size_t{16} << 10);
  EXPECT_GE(general, std::size_t{2} * (2 + 2 * 4 + 3) * 4096 * sizeof(double));
}

TEST(Predict, ProbabilitiesAreSigmoidOfTheForwardPass) {
  const auto backend = make_backend("cpu");
  Parameters p = Parameters::zeros({2, 1, 1});
  p.W1 = {1.0, -2.0};
  p.b1 = {0.5};
  p.W2 = {3.0};
  p.b2 = {-1.0};
  const Dataset data = Dataset::xor_points(4);
  const auto probs = backend->predict(p, data, Precision::f64);
  for (std::size_t s = 0; s < 4; ++s) {
    const double a1 = 1 / (1 + std::exp(-(data.features[2 * s] * 1.0 - 2.0 * data.features[2 * s + 1] + 0.5)));
    EXPECT_DOUBLE_EQ(probs[s], 1 / (1 + std::exp(-(3.0 * a1 - 1.0)))) << s;
  }
}

}  // namespace
}  // namespace backprop
