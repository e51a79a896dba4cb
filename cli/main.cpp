// The `backprop` command line: parses the flags of train, compare, evaluate
// and backends, runs the one asked for, and turns what it throws into a
// message and an exit status.
//
// Exit status: 0 success, 2 usage errors (bad flags or values), 1 failures
// at run time (unreadable data, unusable backend, divergence, output that
// cannot be written).
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "backprop/backprop.hpp"
#include "commands.hpp"
#include "csv_text.hpp"
#include "interruption.hpp"
#include "run_setup.hpp"

namespace backprop::cli {

int backends_command() {
  for (const auto& info : list_backends()) {
    std::printf("%-6s %s\n", info.name.c_str(), info.usable ? "usable" : ("unusable: " + info.reason).c_str());
  }
  return 0;
}

namespace {

// CLI11 checks, which see the text before it is converted. A number reads
// as the CSV files' numbers do (core/csv_text.hpp): decimal, nothing else;
// `accepts` is false for NaN unless it says otherwise, and `rule` ends the
// message "must be <rule>, got '...'".
template <class Accepts>
CLI::Validator number_check(Accepts accepts, const std::string& rule, const std::string& name) {
  return CLI::Validator(
      [accepts, rule](std::string& text) -> std::string {
        double value = 0;
        if (!csv::parse_number(text, value) || !accepts(value)) return "must be " + rule + ", got " + csv::quote(text);
        return {};
      },
      name);
}

const auto kFinitePositive =
    number_check([](double v) { return std::isfinite(v) && v > 0; }, "a finite number above 0", "FINITE > 0");
const auto kFiniteNonNegative =
    number_check([](double v) { return std::isfinite(v) && v >= 0; }, "a finite number at least 0", "FINITE >= 0");
// A share strictly between 0 and 1 (NaN passes CLI11's Range).
const auto kShare = number_check([](double v) { return v > 0 && v < 1; }, "a number above 0 and below 1", "0 < F < 1");

// Digits only (a leading + allowed): "1e3" or "10.0" is not a count, and
// saying "not in range" of it would mislead.
const auto kWholeNumber = CLI::Validator(
    [](std::string& text) -> std::string {
      const std::string_view digits = !text.empty() && text.front() == '+' ? std::string_view(text).substr(1) : text;
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return "must be a whole number, got " + csv::quote(text);
      }
      return {};
    },
    "WHOLE");

// A path given as "" would otherwise pass as no path at all.
const auto kNonEmptyPath = CLI::Validator(
    [](std::string& text) -> std::string { return text.empty() ? "the path is empty" : ""; }, "PATH");

// The options of every command that runs a network: the data and the
// backend's settings.
void add_common_options(CLI::App& cmd, CommonArgs& args) {
  auto* samples = cmd.add_option("--samples", args.samples,
                                 "XOR data set with this many samples (sample i is XOR point i mod 4)")
                      ->check(kWholeNumber)
                      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 32))
                      ->capture_default_str();
  cmd.add_option("--targets", args.targets, "Target columns at the end of each --data line, one sigmoid output each")
      ->check(kWholeNumber)
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20))
      ->capture_default_str();
  cmd.add_option("--data", args.data_csv, "CSV file: feature columns then the target, one sample a line ('-': stdin)")
      ->check(kNonEmptyPath)
      ->excludes(samples);
  cmd.add_option("--threads", args.threads, "CPU threads (0: all; at most the hardware's)")
      ->check(kWholeNumber)
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1024}))
      ->capture_default_str();
  cmd.add_flag("--tf32", args.tf32, "cuda: allow TF32 tensor cores in the GEMMs (not strict FP32)");
}

// The options train and compare share: the start and the schedule.
void add_run_options(CLI::App& cmd, RunArgs& args) {
  auto* init = cmd.add_option("--init", args.init, "Initial weights: numpy (the article's) or xavier")
                   ->check(CLI::IsMember({"numpy", "xavier"}))
                   ->capture_default_str();
  auto* seed = cmd.add_option("--seed", args.seed, "Random seed, as np.random.seed")
                   ->check(kWholeNumber)
                   ->check(CLI::Range(std::int64_t{0}, std::int64_t{4294967295}))
                   ->capture_default_str();
  auto* hidden = cmd.add_option("--hidden", args.hidden, "Hidden units")
                     ->check(kWholeNumber)
                     ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20))
                     ->capture_default_str();
  // A saved network brings its own weights and width.
  cmd.add_option("--init-csv", args.init_csv, "Start from the network in this CSV file, as train --params-csv writes it")
      ->check(kNonEmptyPath)
      ->excludes(init)
      ->excludes(seed)
      ->excludes(hidden);
  cmd.add_option("--optimizer", args.optimizer,
                 "Optimizer, as torch.optim's: sgd (the article's), momentum, rmsprop, adam or adamw")
      ->check(CLI::IsMember({"sgd", "momentum", "rmsprop", "adam", "adamw"}))
      ->capture_default_str();
  cmd.add_option("--lr", args.lr,
                 "Learning rate (default: 1 for sgd and momentum, 0.01 for rmsprop, 0.001 for adam and adamw)")
      ->check(kFinitePositive);
  cmd.add_option("--momentum", args.momentum, "momentum: the buffer's decay (default 0.9)")->check(kFiniteNonNegative);
  cmd.add_flag("--nesterov", args.nesterov, "momentum: Nesterov's form");
  cmd.add_option("--alpha", args.alpha, "rmsprop: the squares' decay (default 0.99)")->check(kFiniteNonNegative);
  cmd.add_option("--beta1", args.beta1, "adam, adamw: the mean's decay (default 0.9)")->check(kFiniteNonNegative);
  cmd.add_option("--beta2", args.beta2, "adam, adamw: the squares' decay (default 0.999)")->check(kFiniteNonNegative);
  cmd.add_option("--eps", args.eps, "rmsprop, adam, adamw: added to the root (default 1e-8)")->check(kFiniteNonNegative);
  cmd.add_option("--weight-decay", args.weight_decay,
                 "L2 term added to the gradient; adamw: decoupled decay (default 0, adamw 0.01)")
      ->check(kFiniteNonNegative);
  cmd.add_option("--batch-size", args.batch_size,
                 "Samples per step (0: the whole data set, the article's); the last batch of an epoch may be smaller")
      ->check(kWholeNumber)
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40))
      ->capture_default_str();
  auto* shuffle_seed = cmd.add_option("--shuffle-seed", args.shuffle_seed,
                                      "Seed of the batches' order: epoch e takes the e-th "
                                      "np.random.RandomState(seed).permutation(N) (default: --seed)")
                           ->check(kWholeNumber)
                           ->check(CLI::Range(std::int64_t{0}, std::int64_t{4294967295}));
  cmd.add_flag("--no-shuffle", args.no_shuffle, "Mini-batches in file order")->excludes(shuffle_seed);
  cmd.add_option("--epochs", args.epochs, "Epochs: passes over the data set, a step per batch")
      ->check(kWholeNumber)
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}))
      ->capture_default_str();
  add_common_options(cmd, args);
}

// --backend and --precision, for the commands that run one of each.
template <class Args>
void add_backend_options(CLI::App& cmd, Args& args) {
  cmd.add_option("--backend", args.backend, "Backend: auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  cmd.add_option("--precision", args.precision, "Arithmetic: f32 or f64")
      ->check(CLI::IsMember({"f32", "f64"}))
      ->capture_default_str();
}

}  // namespace
}  // namespace backprop::cli

namespace {

// Output that never arrived (a full disk, a closed file) is a failure, not a
// success with nothing to show.
int checked_stdout(int status) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "backprop: error: writing the output failed: %s\n", std::strerror(errno));
    return 1;
  }
  return status;
}

// Usage errors exit 2, an interruption 128 + its signal, the rest 1.
int exit_status(const backprop::Error& e) {
  using backprop::ErrorKind;
  if (e.kind() == ErrorKind::usage) return 2;
  if (e.kind() == ErrorKind::interrupted && backprop::cli::stop_signal() != 0) return 128 + backprop::cli::stop_signal();
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace backprop::cli;
  install_signal_handlers();
  CLI::App app{"Train the two-layer sigmoid network of 'Forward Pass & Backprop in NumPy'.",
               "backprop"};
  app.require_subcommand(1);

  TrainArgs train_args;
  auto* train_cmd = app.add_subcommand("train", "Train the network and print its loss and predictions");
  add_backend_options(*train_cmd, train_args);
  train_cmd->add_option("--log-every", train_args.log_every, "Print the loss every this many epochs (0: never)")
      ->check(kWholeNumber)
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000'000}))
      ->capture_default_str();
  add_run_options(*train_cmd, train_args);
  auto* validation_data = train_cmd->add_option("--validation-data", train_args.validation_csv,
                                                "CSV file of validation samples, scored at every log point")
                              ->check(kNonEmptyPath);
  train_cmd->add_option("--validation-split", train_args.validation_split,
                        "Validate on the last share F of --data (0 < F < 1), taken in file order before any shuffling")
      ->check(kShare)
      ->excludes(validation_data);
  train_cmd->add_option("--early-stopping", train_args.early_stopping,
                        "Stop after this many log points without a lower validation loss, keeping the best network")
      ->check(kWholeNumber)
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40))
      ->capture_default_str();
  train_cmd->add_option("--loss-csv", train_args.loss_csv, "Write every epoch's loss to this CSV file")
      ->check(kNonEmptyPath);
  auto* params_csv = train_cmd->add_option("--params-csv", train_args.params_csv,
                                           "Write the trained weights and biases to this CSV file")
                         ->check(kNonEmptyPath);
  train_cmd->add_option("--checkpoint-every", train_args.checkpoint_every,
                        "Also write --params-csv (and --loss-csv) every this many epochs (0: only at the end)")
      ->check(kWholeNumber)
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000'000}))
      ->needs(params_csv)
      ->capture_default_str();

  CompareArgs compare_args;
  auto* compare_cmd = app.add_subcommand(
      "compare", "Train the same network on several backends and precisions and compare each with the first");
  compare_cmd->add_option("--backends", compare_args.backends, "Backends, comma-separated (default: every usable one, cpu first)")
      ->delimiter(',')
      ->check(CLI::IsMember({"cpu", "cuda"}));
  compare_cmd->add_option("--precisions", compare_args.precisions, "Precisions, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember({"f32", "f64"}))
      ->capture_default_str();
  add_run_options(*compare_cmd, compare_args);
  compare_cmd->add_option("--loss-csv", compare_args.loss_csv, "Write every run's loss at every epoch to this CSV file")
      ->check(kNonEmptyPath);

  EvaluateArgs evaluate_args;
  auto* evaluate_cmd = app.add_subcommand(
      "evaluate", "Run a saved network on a data set and print its loss and predictions, without training");
  evaluate_cmd->add_option("--params-csv", evaluate_args.params_csv, "The network, as train --params-csv writes it")
      ->check(kNonEmptyPath)
      ->required();
  add_backend_options(*evaluate_cmd, evaluate_args);
  add_common_options(*evaluate_cmd, evaluate_args);
  evaluate_cmd->add_option("--predictions-csv", evaluate_args.predictions_csv,
                           "Write every sample's target and predicted probability to this CSV file")
      ->check(kNonEmptyPath);

  auto* backends_cmd = app.add_subcommand("backends", "List the compiled backends, usable or not, and why");

  // CLI11 would only say "a subcommand is required"; name the stray word,
  // and the subcommands registered above.
  const std::string first = argc > 1 ? argv[1] : "";
  if (!first.empty() && first[0] != '-') {
    const std::vector<CLI::App*> commands = app.get_subcommands([](CLI::App*) { return true; });
    std::string names;
    bool known = false;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      known = known || commands[i]->get_name() == first;
      names += (i == 0 ? "" : i + 1 == commands.size() ? " or " : ", ") + commands[i]->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "backprop: error: unknown subcommand '%s'; use %s\n", argv[1], names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return checked_stdout(app.exit(e));
  } catch (const CLI::CallForAllHelp& e) {
    return checked_stdout(app.exit(e));
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "backprop: error: %s\nRun 'backprop --help' for usage.\n", e.what());
    return 2;
  }

  try {
    int status = 2;
    if (train_cmd->parsed()) status = train_command(train_args);
    if (compare_cmd->parsed()) status = compare_command(compare_args);
    if (evaluate_cmd->parsed()) status = evaluate_command(evaluate_args);
    if (backends_cmd->parsed()) status = backends_command();
    return checked_stdout(status);
  } catch (const backprop::Error& e) {
    std::fprintf(stderr, "backprop: error: %s\n", e.what());
    return exit_status(e);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "backprop: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {  // not the library's own: still a message, not an abort
    std::fprintf(stderr, "backprop: error: %s\n", e.what());
    return 1;
  }
}
