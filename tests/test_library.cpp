// The public API's contracts: the registry, input checks, divergence.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
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

// The kind of what f throws, to check that errors are told apart by kind.
ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ErrorKind::interrupted;
}

TEST(Errors, EachFailureHasItsKind) {
  const auto cpu = make_backend("cpu");
  const Dataset data = Dataset::xor_points(4);
  EXPECT_EQ(kind_of([] { make_backend("tpu"); }), ErrorKind::usage);
  EXPECT_EQ(kind_of([] { parse_precision("f16"); }), ErrorKind::usage);
  EXPECT_EQ(kind_of([&] { cpu->start(data, init_numpy({3, 4, 1}, 1), Precision::f32); }), ErrorKind::data);
  EXPECT_EQ(kind_of([] { Dataset::from_csv("/nonexistent/data.csv"); }), ErrorKind::io);
  TrainOptions diverging;
  diverging.lr = 1e39;
  EXPECT_EQ(kind_of([&] { train(*cpu, data, init_numpy({2, 4, 1}, 42), diverging); }), ErrorKind::diverged);
  EXPECT_EQ(to_string(ErrorKind::out_of_memory), "out of memory");
}

// Sizes that overflow an array, and enum values out of range, are
// backprop::Error like every other bad argument, not std::length_error.
TEST(Errors, OverflowingSizesAndBadEnumsAreErrors) {
  const std::size_t widest = (std::size_t{1} << 31) - 1;
  EXPECT_EQ(kind_of([&] { Parameters::zeros({widest, widest, widest}); }), ErrorKind::usage);
  // Fits an array, not this machine: refused up front, not by the allocator.
  EXPECT_EQ(kind_of([&] { Parameters::zeros({widest, 1 << 16, 1}); }), ErrorKind::out_of_memory);
  EXPECT_EQ(kind_of([] { Dataset::xor_points(~std::size_t{0}); }), ErrorKind::usage);
  const auto cpu = make_backend("cpu");
  const Dataset data = Dataset::xor_points(4);
  const Parameters p = init_numpy({2, 4, 1}, 42);
  EXPECT_EQ(kind_of([&] { cpu->start(data, p, static_cast<Precision>(7)); }), ErrorKind::usage);
  EXPECT_EQ(kind_of([&] { cpu->predict(p, data, static_cast<Precision>(-1)); }), ErrorKind::usage);
  EXPECT_EQ(kind_of([&] { initialise(static_cast<Initialisation>(9), {2, 4, 1}, 1); }), ErrorKind::usage);
}

// A parameter that the last update of a call makes infinite is divergence,
// through the session as through train(), though every loss is finite: in
// float32 a rate of 1e39 is infinite, so one update does it.
TEST(Errors, TheLastUpdateCannotHideADivergence) {
  const auto cpu = make_backend("cpu");
  const Dataset data = Dataset::xor_points(4);
  auto session = cpu->start(data, init_numpy({2, 4, 1}, 42), Precision::f32);
  const std::string message = error_of([&] { session->run_epochs(1, 1e39); });
  EXPECT_NE(message.find("training diverged at epoch 0 (a parameter is not finite after its update)"),
            std::string::npos)
      << message;
  TrainOptions o;
  o.epochs = 1;
  o.lr = 1e39;
  EXPECT_EQ(kind_of([&] { train(*cpu, data, init_numpy({2, 4, 1}, 42), o); }), ErrorKind::diverged);
}

// A session keeps what it needs of its backend: destroying the backend
// first changes nothing of what it computes.
TEST(Session, OutlivesItsBackend) {
  const Dataset data = Dataset::xor_points(4);
  const Parameters p = init_numpy({2, 4, 1}, 42);
  const auto reference = make_backend("cpu")->start(data, p, Precision::f32)->run_epochs(50, 1.0);
  for (const Precision precision : {Precision::f32, Precision::f64}) {
    auto backend = make_backend("cpu");
    auto session = backend->start(data, p, precision);
    backend.reset();
    const auto losses = session->run_epochs(50, 1.0);
    if (precision == Precision::f32) EXPECT_EQ(losses, reference);
    EXPECT_EQ(session->epochs_run(), 50u);
  }
}

TEST(Session, ThreadsAreCappedAtWhatAnEpochCanUse) {
  EXPECT_EQ(cpu_threads(1), 1u);
  EXPECT_EQ(cpu_threads(7), 7u);
  EXPECT_EQ(cpu_threads(1024), 64u);
  EXPECT_GE(cpu_threads(0), 1u);
}

// A worker's scratch stays within 32 MiB however wide the network (at
// hidden 2^16 a chunk is 16 samples, not the 256 of narrow layers' rule),
// and the segments' partial sums within 256 MiB: the old rule took over
// 512 MiB of scratch alone here.
TEST(Session, WorkingMemoryStaysBoundedHoweverWide) {
  BackendConfig config;
  config.threads = 2;
  const auto cpu = make_backend("cpu", config);
  const Dataset data = Dataset::xor_points(1000);
  const Shape shape{2, std::size_t{1} << 16, 1};
  const auto session = cpu->start(data, init_xavier(shape, 1), Precision::f32);
  const std::size_t gradient = 1 + 1 + 2 * shape.hidden + 2 * shape.hidden;  // loss, b2, W2, b1, W1
  const std::size_t weights = (2 * shape.hidden + shape.hidden + shape.hidden + 1) * sizeof(float);
  EXPECT_LE(session->memory_bytes(), 2 * (std::size_t{32} << 20) + (std::size_t{256} << 20) +
                                         gradient * sizeof(double) + weights + 4096);
  const std::size_t values_per_sample = 2 + 2 * shape.hidden + 2 + 1;
  EXPECT_GE(session->memory_bytes(), 2 * 16 * values_per_sample * sizeof(float));  // one chunk a worker
  session->run_epochs(1, 0.1);  // and it trains
}

// The same for wide data: 100000 features on 3 samples.
TEST(Session, WideDataTakesBoundedMemory) {
  BackendConfig config;
  config.threads = 2;
  const auto cpu = make_backend("cpu", config);
  Dataset data;
  data.inputs = 100000;
  data.outputs = 1;
  data.features.assign(3 * data.inputs, 0.5f);
  data.targets = {0, 1, 1};
  const Shape shape{data.inputs, 4, 1};
  const auto session = cpu->start(data, init_xavier(shape, 1), Precision::f64);
  const std::size_t gradient = 1 + 1 + 4 + 4 + data.inputs * 4;
  EXPECT_LE(session->memory_bytes(), 2 * (std::size_t{32} << 20) + 2 * gradient * sizeof(double) +
                                         gradient * sizeof(double) + 4096);
  session->run_epochs(2, 0.1);
}

// A stop request ends train() between calls, with the epochs done so far
// and the parameters after them; checkpoints come every so many epochs.
TEST(Train, StopsWhenAskedAndCheckpoints) {
  const auto cpu = make_backend("cpu");
  const Dataset data = Dataset::xor_points(4);
  const Parameters start = init_numpy({2, 4, 1}, 42);
  std::atomic<bool> stop{false};
  TrainOptions o;
  o.epochs = 5000;
  o.log_every = 0;
  o.checkpoint_every = 1000;
  o.stop = &stop;
  std::vector<std::size_t> checkpoints;
  const TrainResult whole = train(*cpu, data, start, o, {}, [&](const Parameters&, const OptimizerState&, const std::vector<double>& losses) {
    checkpoints.push_back(losses.size());
  });
  EXPECT_FALSE(whole.interrupted);
  EXPECT_EQ(checkpoints, (std::vector<std::size_t>{1000, 2000, 3000, 4000}));
  // Stopped at the second checkpoint: the first 2000 epochs, bit for bit.
  Parameters at_stop;
  const TrainResult stopped = train(*cpu, data, start, o, {}, [&](const Parameters& p, const OptimizerState&, const std::vector<double>& losses) {
    if (losses.size() == 2000) {
      stop = true;
      at_stop = p;
    }
  });
  EXPECT_TRUE(stopped.interrupted);
  ASSERT_EQ(stopped.losses.size(), 2000u);
  EXPECT_TRUE(std::equal(stopped.losses.begin(), stopped.losses.end(), whole.losses.begin()));
  EXPECT_EQ(stopped.params.W1, at_stop.W1);
}

}  // namespace
}  // namespace backprop
