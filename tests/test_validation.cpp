// Validation data and early stopping in train(): when the network is scored,
// what a score is, and which network early stopping returns.
#include <gtest/gtest.h>

#include <cmath>

#include "backprop/backprop.hpp"
#include "optimizer_golden.hpp"

namespace backprop {
namespace {

// The breast cancer data, its last 114 samples held out as the CLI's
// --validation-split 0.2 holds them.
struct Split {
  Dataset train, validation;
  Split() {
    const testing::OptimizerGolden golden("mb_cancer_adam");
    const Dataset& all = golden.data;
    const std::size_t keep = 455;
    train.inputs = validation.inputs = all.inputs;
    train.outputs = validation.outputs = all.outputs;
    train.features.assign(all.features.begin(), all.features.begin() + keep * all.inputs);
    train.targets.assign(all.targets.begin(), all.targets.begin() + keep);
    validation.features.assign(all.features.begin() + keep * all.inputs, all.features.end());
    validation.targets.assign(all.targets.begin() + keep, all.targets.end());
  }
};

TrainOptions adam_in_batches(const Dataset* validation) {
  TrainOptions o;
  o.optimizer = Optimizer::of(OptimizerKind::adam);
  o.lr = 0.01;
  o.batches.size = 64;
  o.epochs = 300;
  o.log_every = 20;
  o.precision = Precision::f64;
  o.validation = validation;
  return o;
}

// A score is the clipped binary cross-entropy of the predictions: on the
// training data at the parameters of a full-batch session it is the loss
// that session computes, up to the order of the sums (measured 1.1e-16).
TEST(Validation, AScoreIsTheLossTrainingComputes) {
  const Split s;
  const auto cpu = make_backend("cpu");
  const Parameters p = init_numpy({30, 16, 1}, 1);
  const ValidationPoint point = score(*cpu, p, s.train, Precision::f64);
  EXPECT_NEAR(point.loss, cpu->start(s.train, p, Precision::f64)->gradients().loss, 1e-15);
  // Accuracy by hand: the share of predictions on the target's side of 0.5.
  const auto probabilities = cpu->predict(p, s.train, Precision::f64);
  std::size_t right = 0;
  for (std::size_t k = 0; k < probabilities.size(); ++k) right += (probabilities[k] > 0.5) == (s.train.targets[k] > 0.5f);
  EXPECT_EQ(point.accuracy, static_cast<double>(right) / static_cast<double>(probabilities.size()));
}

// With two outputs too: the loss sums the outputs, as training's does.
TEST(Validation, AScoreSumsTheOutputsAsTrainingDoes) {
  Dataset d = Dataset::xor_points(8);
  d.outputs = 2;
  d.targets.clear();
  for (std::size_t s = 0; s < 8; ++s) {
    d.targets.push_back(d.features[2 * s] != d.features[2 * s + 1] ? 1.0f : 0.0f);  // xor
    d.targets.push_back(d.features[2 * s] * d.features[2 * s + 1]);                 // and
  }
  const auto cpu = make_backend("cpu");
  const Parameters p = init_xavier({2, 5, 2}, 3);
  EXPECT_NEAR(score(*cpu, p, d, Precision::f64).loss, cpu->start(d, p, Precision::f64)->gradients().loss, 1e-15);
}

// Scored at epoch 0, at every log point and after the last epoch, each
// score that of the parameters at that moment.
TEST(Validation, ScoresAtEveryLogPointAndAfterTheLastEpoch) {
  const Split s;
  const auto cpu = make_backend("cpu");
  const Parameters start = init_numpy({30, 16, 1}, 1);
  TrainOptions o = adam_in_batches(&s.validation);
  o.epochs = 50;
  std::vector<std::size_t> seen;
  const TrainResult r = train(*cpu, s.train, start, o, {}, {}, [&](const ValidationPoint& p) { seen.push_back(p.epoch); });
  EXPECT_EQ(seen, (std::vector<std::size_t>{0, 20, 40, 50}));
  ASSERT_EQ(r.validation.size(), 4u);
  EXPECT_EQ(r.validation.front().loss, score(*cpu, start, s.validation, Precision::f64).loss);
  EXPECT_EQ(r.validation.back().loss, score(*cpu, r.params, s.validation, Precision::f64).loss);
  TrainOptions twenty = o;
  twenty.epochs = 20;
  twenty.validation = nullptr;
  const TrainResult first = train(*cpu, s.train, start, twenty);
  EXPECT_EQ(r.validation[1].loss, score(*cpu, first.params, s.validation, Precision::f64).loss);
  EXPECT_FALSE(r.stopped_early);
}

// Early stopping returns the network of the lowest validation loss, the
// one a run of that many epochs ends with, and stops `patience` log points
// after it.
TEST(Validation, EarlyStoppingKeepsTheBestNetwork) {
  const Split s;
  const auto cpu = make_backend("cpu");
  const Parameters start = init_numpy({30, 16, 1}, 1);
  TrainOptions o = adam_in_batches(&s.validation);
  o.early_stopping = 3;
  const TrainResult r = train(*cpu, s.train, start, o);
  ASSERT_TRUE(r.stopped_early);
  EXPECT_EQ(r.losses.size(), r.best_epoch + 3 * o.log_every);
  double best = INFINITY;
  for (const ValidationPoint& p : r.validation) best = std::min(best, p.loss);
  for (const ValidationPoint& p : r.validation) {
    if (p.epoch == r.best_epoch) EXPECT_EQ(p.loss, best);
  }
  TrainOptions plain = o;
  plain.validation = nullptr;
  plain.early_stopping = 0;
  plain.epochs = r.best_epoch;
  ASSERT_GT(r.best_epoch, 0u);
  const TrainResult to_best = train(*cpu, s.train, start, plain);
  EXPECT_EQ(r.params.W1, to_best.params.W1);
  EXPECT_EQ(r.params.b2, to_best.params.b2);
}

TEST(Validation, EarlyStoppingWithoutValidationAndMismatchedWidthsAreRefused) {
  const Split s;
  const auto cpu = make_backend("cpu");
  const Parameters start = init_numpy({30, 16, 1}, 1);
  TrainOptions o = adam_in_batches(nullptr);
  o.early_stopping = 2;
  try {
    train(*cpu, s.train, start, o);
    ADD_FAILURE() << "early stopping without validation accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
  }
  const Dataset xor4 = Dataset::xor_points(4);
  o = adam_in_batches(&xor4);
  try {
    train(*cpu, s.train, start, o);
    ADD_FAILURE() << "validation data of another width accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::data);
    EXPECT_NE(std::string(e.what()).find("validation data has 2 features"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace backprop
