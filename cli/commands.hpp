// The subcommands of the `backprop` command line and the flags they take.
// main.cpp parses the flags into these structs and calls one command; each
// command returns the exit status or throws (backprop::Error: exit 1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace backprop::cli {

// What every command that runs a network takes: the data set and the
// backend's settings.
struct CommonArgs {
  std::int64_t samples = 4;
  std::string data_csv;
  std::int64_t targets = 1;  // target columns at the end of each --data line
  std::int64_t threads = 0;
  bool tf32 = false;
};

// What train and compare add: the network to start from and the schedule.
struct RunArgs : CommonArgs {
  std::string init = "numpy";
  std::int64_t seed = 42;
  std::int64_t hidden = 4;
  std::optional<double> lr;  // unset: the optimizer's default (default_learning_rate)
  std::int64_t epochs = 10000;
  // The optimizer and those of its settings that were given; the others
  // take PyTorch's defaults (Optimizer::of).
  std::string optimizer = "sgd";
  std::optional<double> momentum, alpha, beta1, beta2, eps, weight_decay;
  bool nesterov = false;
  std::int64_t batch_size = 0;             // 0: the whole data set
  std::optional<std::int64_t> shuffle_seed;  // unset: --seed
  bool no_shuffle = false;
  std::string init_csv;  // a saved network to start from, in place of --init, --seed and --hidden
  std::string loss_csv;
};

struct TrainArgs : RunArgs {
  std::string validation_csv;              // scored at every log point
  std::optional<double> validation_split;  // or the last share of the data set
  std::int64_t early_stopping = 0;         // log points without a lower validation loss before stopping
  std::string backend = "auto";
  std::string precision = "f32";
  std::int64_t log_every = 1000;
  std::string params_csv;
  std::int64_t checkpoint_every = 0;  // write --params-csv and --loss-csv every this many epochs too
};

struct CompareArgs : RunArgs {
  std::vector<std::string> backends;  // empty: every usable one, cpu first
  std::vector<std::string> precisions = {"f64", "f32"};
};

struct EvaluateArgs : CommonArgs {
  std::string backend = "auto";
  std::string precision = "f32";
  std::string params_csv;  // the network, as train --params-csv writes it
  std::string predictions_csv;
};

// `backprop train` (train_command.cpp): the article's log and table.
int train_command(const TrainArgs& args);

// `backprop compare` (compare_command.cpp): one run per backend x precision,
// each set beside the first.
int compare_command(const CompareArgs& args);

// `backprop evaluate` (evaluate_command.cpp): a saved network's loss and
// predictions on a data set, without training.
int evaluate_command(const EvaluateArgs& args);

// `backprop backends` (main.cpp): every compiled backend, usable or why not.
int backends_command();

}  // namespace backprop::cli
