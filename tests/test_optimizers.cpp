// The optimizers on the CPU against torch.optim in float64
// (scripts/optimizer_reference.py): every epoch's loss and the final
// parameters, on XOR and on scikit-learn's breast cancer data; their state
// across run_epochs calls and thread counts; their settings' checks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "backprop/backprop.hpp"
#include "numpy_random.hpp"
#include "optimizer_golden.hpp"

namespace backprop {
namespace {

using testing::OptimizerGolden;

// f64 against PyTorch f64: the same arithmetic up to the order of the sums
// (torch's matmul against our chunks) and of a few products in the update.
// Measured worst cases over every case: loss 1.0e-12 (xor_nesterov),
// parameters 1.6e-10 (xor_rmsprop, whose steps divide by the gradient's
// own size); the issue asks for 1e-9 at most.
constexpr double kLossAtolF64 = 1e-11;
constexpr double kParamAtolF64 = 1e-9;
// f32 against PyTorch f64: measured worst 4.3e-4 (xor_rmsprop), 2.1e-4
// (xor_nesterov), both as XOR leaves its saddle, which amplifies float's
// rounding; at most 9e-7 for Adam and 3.2e-7 on the breast cancer data.
constexpr double kLossAtolF32 = 2e-3;

class OptimizerGoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  OptimizerGolden golden{GetParam()};
};

TEST_P(OptimizerGoldenTest, TheGoldenRunLearns) {
  // A model that never updated would keep its first loss and parameters:
  // the check below would fail for it by far more than its tolerance.
  EXPECT_GT(std::abs(golden.losses.front() - golden.losses.back()), 10 * kLossAtolF32);
  EXPECT_GT(testing::largest_parameter_gap(golden.initial, golden.final_params), 1000 * kParamAtolF64);
}

TEST_P(OptimizerGoldenTest, Float64FollowsPyTorchEveryEpoch) {
  const auto cpu = make_backend("cpu");
  const TrainResult r = train(*cpu, golden.data, golden.initial, golden.options_in(Precision::f64));
  ASSERT_EQ(r.losses.size(), golden.losses.size());
  const double loss_gap = testing::largest_gap(r.losses, golden.losses);
  const double param_gap = testing::largest_parameter_gap(r.params, golden.final_params);
  EXPECT_LE(loss_gap, kLossAtolF64);
  EXPECT_LE(param_gap, kParamAtolF64);
  std::printf("[ worst    ] %s f64: loss %.2e, parameters %.2e\n", golden.name.c_str(), loss_gap, param_gap);
}

TEST_P(OptimizerGoldenTest, Float32StaysCloseToPyTorch) {
  const auto cpu = make_backend("cpu");
  const TrainResult r = train(*cpu, golden.data, golden.initial, golden.options_in(Precision::f32));
  ASSERT_EQ(r.losses.size(), golden.losses.size());
  const double loss_gap = testing::largest_gap(r.losses, golden.losses);
  EXPECT_LE(loss_gap, kLossAtolF32);
  std::printf("[ worst    ] %s f32: loss %.2e\n", golden.name.c_str(), loss_gap);
}

// The optimizer's state (momentum's buffer, Adam's moments and step count)
// carries over from one run_epochs call to the next: a run in pieces has
// the bits of one call.
TEST_P(OptimizerGoldenTest, ARunInPiecesHasTheBitsOfOneCall) {
  const auto cpu = make_backend("cpu");
  const TrainOptions& o = golden.options;
  auto whole = cpu->start(golden.data, golden.initial, Precision::f32, o.optimizer);
  const std::vector<double> one_call = whole->run_epochs(o.epochs, o.lr);
  auto pieces = cpu->start(golden.data, golden.initial, Precision::f32, o.optimizer);
  std::vector<double> losses;
  for (std::size_t done = 0, piece = 1; done < o.epochs; done += piece, piece = piece * 2 + 1) {
    const auto part = pieces->run_epochs(std::min(piece, o.epochs - done), o.lr);
    losses.insert(losses.end(), part.begin(), part.end());
  }
  EXPECT_EQ(losses, one_call);
  EXPECT_EQ(pieces->parameters().W1, whole->parameters().W1);
}

// A checkpoint (parameters and state, through the CSV file) resumes a run
// with the bits of one uninterrupted run, for every optimizer and batching.
TEST_P(OptimizerGoldenTest, AResumedRunHasTheBitsOfOneRun) {
  const auto cpu = make_backend("cpu");
  for (const Precision precision : {Precision::f32, Precision::f64}) {
    testing::check_resumed_run_has_the_bits(*cpu, golden, precision, 30, 13);
  }
}

INSTANTIATE_TEST_SUITE_P(TorchOptim, OptimizerGoldenTest, ::testing::ValuesIn(testing::optimizer_golden_cases()),
                         [](const auto& info) { return info.param; });

// --precision f64 trains on a file's own doubles: PyTorch's float64 run on
// them is followed to rounding (measured 5.6e-16), where the same file
// rounded to float32 as it is read for f32 (Dataset::from_csv without
// keep_f64) is measured 3.5e-11 away on this z-scored data.
TEST(Float64, TrainsOnTheFilesOwnDoubles) {
  const OptimizerGolden golden("cancer_f64_adam");
  ASSERT_TRUE(golden.data.has_f64());
  const auto cpu = make_backend("cpu");
  const TrainOptions o = golden.options_in(Precision::f64);
  const TrainResult exact = train(*cpu, golden.data, golden.initial, o);
  EXPECT_LE(testing::largest_gap(exact.losses, golden.losses), 5e-15);
  const Dataset rounded = Dataset::from_csv(testing::data_path("breast_cancer_f64.csv"));
  EXPECT_FALSE(rounded.has_f64());
  const TrainResult from_floats = train(*cpu, rounded, golden.initial, o);
  const double gap = testing::largest_gap(from_floats.losses, golden.losses);
  EXPECT_GT(gap, 1e-12);
  std::printf("[ measured ] f64 on the floats of the file: %.2e from PyTorch float64\n", gap);
}

TEST(Optimizers, SameBitsForAnyThreadCount) {
  for (const char* name : {"cancer_adam", "mb_cancer_adam"}) {
    const OptimizerGolden golden(name);
    TrainOptions o = golden.options;
    o.epochs = 20;
    BackendConfig one, two, three;
    one.threads = 1;
    two.threads = 2;
    three.threads = 3;
    const TrainResult a = train(*make_backend("cpu", one), golden.data, golden.initial, o);
    for (const BackendConfig& config : {two, three}) {
      const TrainResult b = train(*make_backend("cpu", config), golden.data, golden.initial, o);
      EXPECT_EQ(a.losses, b.losses) << name << ", threads " << config.threads;
      EXPECT_EQ(a.params.W1, b.params.W1) << name << ", threads " << config.threads;
    }
  }
}

// A batch of the whole data set, or larger, is the article's full-batch
// step, shuffled or not: the same bits as no batches at all.
TEST(MiniBatches, AWholeDataSetBatchIsTheFullBatchStep) {
  const OptimizerGolden golden("cancer_adam");
  TrainOptions o = golden.options;
  o.epochs = 10;
  const auto cpu = make_backend("cpu");
  const TrainResult want = train(*cpu, golden.data, golden.initial, o);
  for (const std::size_t size : {golden.data.samples(), golden.data.samples() + 1, std::size_t{1} << 40}) {
    o.batches.size = size;
    const TrainResult got = train(*cpu, golden.data, golden.initial, o);
    EXPECT_EQ(got.losses, want.losses) << "batch " << size;
  }
}

// Batches of one sample, shuffled: N steps an epoch; the logged loss is the
// mean of each sample's loss before its own step, computed here by hand
// from the same order for the first epoch.
TEST(MiniBatches, OneSampleBatchesLogEachSamplesLossBeforeItsStep) {
  const Dataset data = Dataset::xor_points(4);
  const Parameters start = init_numpy({2, 4, 1}, 42);
  const auto cpu = make_backend("cpu");
  Batches batches;
  batches.size = 1;
  batches.seed = 9;
  auto session = cpu->start(data, start, Precision::f64, {}, batches);
  const double logged = session->run_epochs(1, 0.5).at(0);
  // The same epoch by hand: one sample at a time, in permutation order.
  NumpyRandom rng(9);
  std::vector<std::uint32_t> order;
  rng.permutation(4, order);
  Parameters p = start;
  double sum = 0;
  for (const std::uint32_t s : order) {
    Dataset one;
    one.inputs = 2;
    one.outputs = 1;
    one.features = {data.features[2 * s], data.features[2 * s + 1]};
    one.targets = {data.targets[s]};
    auto step = cpu->start(one, p, Precision::f64);
    sum += step->run_epochs(1, 0.5).at(0);
    p = step->parameters();
  }
  EXPECT_EQ(logged, sum / 4);
  EXPECT_EQ(session->parameters().W1, p.W1);
}

TEST(Optimizers, NamesAndPyTorchsDefaults) {
  for (const char* name : {"sgd", "momentum", "rmsprop", "adam", "adamw"}) {
    EXPECT_EQ(to_string(parse_optimizer(name)), name);
  }
  EXPECT_EQ(Optimizer::of(OptimizerKind::adamw).weight_decay, 0.01);
  EXPECT_EQ(Optimizer::of(OptimizerKind::adam).weight_decay, 0.0);
  EXPECT_EQ(Optimizer::of(OptimizerKind::adam).beta2, 0.999);
  EXPECT_EQ(Optimizer::of(OptimizerKind::rmsprop).alpha, 0.99);
  EXPECT_EQ(default_learning_rate(OptimizerKind::adam), 1e-3);
  EXPECT_EQ(default_learning_rate(OptimizerKind::rmsprop), 1e-2);
  EXPECT_EQ(default_learning_rate(OptimizerKind::sgd), 1.0);
  EXPECT_EQ(Optimizer::of(OptimizerKind::sgd).state_arrays(), 0u);
  EXPECT_EQ(Optimizer::of(OptimizerKind::momentum).state_arrays(), 1u);
  EXPECT_EQ(Optimizer::of(OptimizerKind::adamw).state_arrays(), 2u);
}

// Each bad setting is refused, naming itself, by the session's start as by
// train().
TEST(Optimizers, BadSettingsAreUsageErrorsThatNameThem) {
  const Dataset data = Dataset::xor_points(4);
  const Parameters start = init_numpy({2, 4, 1}, 42);
  const auto cpu = make_backend("cpu");
  auto refused = [&](Optimizer o, const std::string& words) {
    try {
      cpu->start(data, start, Precision::f32, o);
      ADD_FAILURE() << "accepted: " << words;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage);
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  Optimizer o = Optimizer::of(OptimizerKind::adam);
  o.beta1 = 1.0;
  refused(o, "beta1");
  o = Optimizer::of(OptimizerKind::adam);
  o.beta2 = -0.1;
  refused(o, "beta2");
  o = Optimizer::of(OptimizerKind::momentum);
  o.momentum = 0;
  o.nesterov = true;
  refused(o, "nesterov");
  o = Optimizer::of(OptimizerKind::rmsprop);
  o.alpha = std::nan("");
  refused(o, "alpha");
  o = Optimizer::of(OptimizerKind::adam);
  o.eps = -1e-8;
  refused(o, "eps");
  o = Optimizer::of(OptimizerKind::sgd);
  o.weight_decay = INFINITY;
  refused(o, "weight decay");
  o.kind = static_cast<OptimizerKind>(99);
  refused(o, "unknown optimizer");
  EXPECT_THROW(parse_optimizer("adagrad"), Error);
  TrainOptions options;
  options.optimizer.kind = OptimizerKind::adam;
  options.optimizer.beta1 = 2;
  EXPECT_THROW(train(*cpu, data, start, options), Error);
}

}  // namespace
}  // namespace backprop
