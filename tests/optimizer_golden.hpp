// The optimizers' golden trajectories (scripts/optimizer_reference.py:
// torch.optim in float64 on the article's gradient), read into what a
// test needs to rerun each: the data set, the start, the optimizer, and
// PyTorch's losses and final parameters.
#pragma once

#include <string>
#include <vector>

#include "backprop/backprop.hpp"
#include "golden_file.hpp"
#include "temp_file.hpp"

namespace backprop::testing {

// The cases the script writes with one batch a step (the whole data set).
inline std::vector<std::string> full_batch_golden_cases() {
  return {"xor_sgd_l2",  "xor_momentum", "xor_nesterov",       "xor_rmsprop",   "xor_rmsprop_l2",
          "xor_adam",    "xor_adam_l2",  "xor_adamw",          "cancer_sgd",    "cancer_nesterov_l2",
          "cancer_rmsprop", "cancer_adam", "cancer_adam_l2",   "cancer_adamw",   "iris_adam",
          "cancer_f64_adam"};
}

// And with mini-batches, shuffled and in order.
inline std::vector<std::string> mini_batch_golden_cases() {
  return {"mb_xor_adam",       "mb_cancer_sgd_l2", "mb_cancer_nesterov_in_order",
          "mb_cancer_rmsprop", "mb_cancer_adam",   "mb_cancer_adamw", "mb_iris_rmsprop"};
}

inline std::vector<std::string> optimizer_golden_cases() {
  std::vector<std::string> all = full_batch_golden_cases();
  for (const std::string& name : mini_batch_golden_cases()) all.push_back(name);
  return all;
}

struct OptimizerGolden {
  std::string name;
  Dataset data;
  Parameters initial;
  TrainOptions options;  // f32: set precision for another
  std::vector<double> losses;
  Parameters final_params;

  explicit OptimizerGolden(const std::string& case_name) : name(case_name) {
    const GoldenFile g(data_path("golden/optimizer_" + case_name + ".txt"));
    const std::string source = g.words("data").at(0);
    const auto targets = static_cast<std::size_t>(g.number("targets"));
    data = source == "xor" ? Dataset::xor_points(4) : Dataset::from_csv(data_path(source), targets, true);
    const Shape shape{data.inputs, static_cast<std::size_t>(g.number("hidden")), data.outputs};
    initial = init_numpy(shape, static_cast<std::uint32_t>(g.number("seed")));
    Optimizer& o = options.optimizer;
    o.kind = parse_optimizer(g.words("optimizer").at(0));
    o.momentum = g.number("momentum");
    o.nesterov = g.number("nesterov") != 0;
    o.alpha = g.number("alpha");
    o.beta1 = g.number("beta1");
    o.beta2 = g.number("beta2");
    o.eps = g.number("eps");
    o.weight_decay = g.number("weight_decay");
    options.batches.size = static_cast<std::size_t>(g.number("batch_size"));
    options.batches.shuffle = g.number("shuffle") != 0;
    options.batches.seed = static_cast<std::uint32_t>(g.number("shuffle_seed"));
    options.lr = g.number("lr");
    options.epochs = static_cast<std::size_t>(g.number("epochs"));
    options.log_every = 0;
    losses = g.numbers("losses");
    final_params.shape = shape;
    final_params.W1 = g.numbers("final_W1");
    final_params.b1 = g.numbers("final_b1");
    final_params.W2 = g.numbers("final_W2");
    final_params.b2 = g.numbers("final_b2");
  }

  TrainOptions options_in(Precision precision) const {
    TrainOptions o = options;
    o.precision = precision;
    return o;
  }
};

// The largest |a_i - b_i| over the four arrays.
inline double largest_parameter_gap(const Parameters& a, const Parameters& b) {
  double worst = 0;
  const std::vector<double>* left[] = {&a.W1, &a.b1, &a.W2, &a.b2};
  const std::vector<double>* right[] = {&b.W1, &b.b1, &b.W2, &b.b2};
  for (int k = 0; k < 4; ++k) {
    for (std::size_t i = 0; i < left[k]->size() && i < right[k]->size(); ++i) {
      worst = std::max(worst, std::abs((*left[k])[i] - (*right[k])[i]));
    }
  }
  return worst;
}

// A run of `epochs` epochs against the same run in two sessions: the first
// `first` epochs, its parameters and state saved as a checkpoint file and
// read back, then a new session restored from them for the rest. The
// second must have the first's bits.
inline void check_resumed_run_has_the_bits(const Backend& backend, const OptimizerGolden& golden,
                                           Precision precision, std::size_t epochs, std::size_t first) {
  SCOPED_TRACE(golden.name + " " + std::string(to_string(precision)) + ", resumed after " + std::to_string(first));
  const TrainOptions& o = golden.options;
  auto whole = backend.start(golden.data, golden.initial, precision, o.optimizer, o.batches);
  const std::vector<double> want = whole->run_epochs(epochs, o.lr);
  auto before = backend.start(golden.data, golden.initial, precision, o.optimizer, o.batches);
  std::vector<double> got = before->run_epochs(first, o.lr);
  const OptimizerState state = before->optimizer_state();
  EXPECT_EQ(state.epochs, first);
  TempFile checkpoint("");
  {
    std::ofstream out(checkpoint.path());
    before->parameters().write_csv(out, &state);
  }
  OptimizerState read;
  const Parameters saved = Parameters::from_csv(checkpoint.path(), &read);
  EXPECT_EQ(read.values, state.values);
  EXPECT_EQ(read.steps, state.steps);
  auto after = backend.start(golden.data, saved, precision, o.optimizer, o.batches);
  after->restore(read);
  EXPECT_EQ(after->epochs_run(), first);
  const std::vector<double> rest = after->run_epochs(epochs - first, o.lr);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(after->parameters().W1, whole->parameters().W1);
  EXPECT_EQ(after->optimizer_state().values, whole->optimizer_state().values);
}

inline double largest_gap(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

}  // namespace backprop::testing
