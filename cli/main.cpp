// The `backprop` command line: train the network on a chosen backend and
// print the article's log and table, compare the same training run across
// backends and precisions, or list the compiled backends.
//
// Exit status: 0 success, 2 usage errors (bad flags or values), 1 failures
// at run time (unreadable data, unusable backend, divergence, output that
// cannot be written).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <unistd.h>

#include "backprop/backprop.hpp"

namespace {

// What train and compare share: the data, the network and the schedule.
struct RunArgs {
  std::string init = "numpy";
  std::int64_t seed = 42;
  std::int64_t hidden = 4;
  double lr = 1.0;
  std::int64_t epochs = 10000;
  std::int64_t samples = 4;
  std::int64_t threads = 0;
  bool tf32 = false;
  std::string data_csv;
  std::string loss_csv;
};

struct TrainArgs : RunArgs {
  std::string backend = "auto";
  std::string precision = "f32";
  std::int64_t log_every = 1000;
};

struct CompareArgs : RunArgs {
  std::vector<std::string> backends;  // empty: every usable one, cpu first
  std::vector<std::string> precisions = {"f64", "f32"};
};

constexpr std::size_t kTableRows = 8;  // larger data sets get an accuracy line instead

// "0 1" for {0, 1}: values as %g, space-separated.
template <class V>
std::string joined(const V* values, std::size_t count) {
  std::string text;
  char cell[32];
  for (std::size_t i = 0; i < count; ++i) {
    std::snprintf(cell, sizeof cell, "%s%g", i ? " " : "", static_cast<double>(values[i]));
    text += cell;
  }
  return text;
}

void print_predictions(const backprop::Dataset& data, const std::vector<double>& probabilities) {
  const std::size_t n = data.samples();
  const std::size_t outs = data.outputs;
  std::vector<int> predicted(probabilities.size());
  for (std::size_t k = 0; k < predicted.size(); ++k) predicted[k] = probabilities[k] > 0.5 ? 1 : 0;

  if (n <= kTableRows) {
    std::printf("Input | Target | Predicted\n");
    for (std::size_t s = 0; s < n; ++s) {
      std::printf("  [%s]  |   %s    |    %s\n", joined(&data.features[s * data.inputs], data.inputs).c_str(),
                  joined(&data.targets[s * outs], outs).c_str(), joined(&predicted[s * outs], outs).c_str());
    }
    return;
  }
  std::size_t correct = 0;
  for (std::size_t k = 0; k < n * outs; ++k) correct += predicted[k] == (data.targets[k] > 0.5f ? 1 : 0);
  std::printf("Accuracy: %.2f%% (%zu of %zu predictions match the target at threshold 0.5)\n",
              100.0 * static_cast<double>(correct) / static_cast<double>(n * outs), correct, n * outs);
}

// An XOR data set too large for this machine's memory would be killed by the
// kernel part-way, not refused by the allocator: say so before allocating.
// Per sample: 12 bytes of data, 8 + 4 for the predictions printed at the end.
void refuse_if_too_large(std::size_t samples) {
  const double needed = 24.0 * static_cast<double>(samples);
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (physical > 0 && needed > 0.8 * physical) {
    char message[160];
    std::snprintf(message, sizeof message, "--samples %zu needs about %.1f GiB; this machine has %.1f GiB of memory",
                  samples, needed / (1 << 30), physical / (1 << 30));
    throw backprop::Error(message);
  }
}

// Opened before training, so that an unwritable path fails at once rather
// than after a long run.
std::ofstream open_loss_file(const std::string& path) {
  std::ofstream file;
  if (path.empty()) return file;
  file.open(path, std::ios::trunc);
  if (!file) throw backprop::Error("cannot write loss file '" + path + "': " + std::strerror(errno));
  return file;
}

// "epoch,<name>,..." then one line per epoch, every loss with full precision.
void write_losses(std::ofstream& file, const std::string& path, const std::vector<std::string>& names,
                  const std::vector<const std::vector<double>*>& losses) {
  if (!file.is_open()) return;
  file << "epoch";
  for (const auto& name : names) file << ',' << name;
  file << '\n';
  char cell[32];
  for (std::size_t e = 0; e < losses.front()->size(); ++e) {
    file << e;
    for (const auto* run : losses) {
      std::snprintf(cell, sizeof cell, ",%.17g", (*run)[e]);
      file << cell;
    }
    file << '\n';
  }
  file.close();
  if (!file) throw backprop::Error("writing loss file '" + path + "' failed");
}

backprop::Dataset load_data(const RunArgs& args) {
  if (!args.data_csv.empty()) return backprop::Dataset::from_csv(args.data_csv);
  refuse_if_too_large(static_cast<std::size_t>(args.samples));
  return backprop::Dataset::xor_points(static_cast<std::size_t>(args.samples));
}

backprop::Parameters initial_parameters(const RunArgs& args, const backprop::Dataset& data) {
  using namespace backprop;
  const Shape shape{data.inputs, static_cast<std::size_t>(args.hidden), data.outputs};
  const auto kind = args.init == "xavier" ? Initialisation::xavier : Initialisation::numpy;
  return initialise(kind, shape, static_cast<std::uint32_t>(args.seed));
}

backprop::BackendConfig backend_config(const RunArgs& args) {
  backprop::BackendConfig config;
  config.threads = static_cast<unsigned>(args.threads);
  config.allow_tf32 = args.tf32;
  return config;
}

int train(const TrainArgs& args) {
  using namespace backprop;
  std::ofstream loss_file = open_loss_file(args.loss_csv);
  const Dataset data = load_data(args);

  if (args.backend == "auto") {
    for (const auto& info : list_backends()) {
      if (info.usable) break;
      std::fprintf(stderr, "backprop: %s is not usable (%s); falling back\n", info.name.c_str(),
                   info.reason.c_str());
    }
  }
  const auto backend = make_backend(args.backend, backend_config(args));
  const Parameters initial = initial_parameters(args, data);

  TrainOptions options;
  options.epochs = static_cast<std::size_t>(args.epochs);
  options.lr = args.lr;
  options.precision = parse_precision(args.precision);
  options.log_every = static_cast<std::size_t>(args.log_every);

  std::fprintf(stderr, "backprop: training %zu-%zu-%zu on %s (%s), %zu samples\n", initial.shape.inputs,
               initial.shape.hidden, initial.shape.outputs, backend->name().c_str(),
               std::string(to_string(options.precision)).c_str(), data.samples());
  const TrainResult result =
      backprop::train(*backend, data, initial, options, [](std::size_t epoch, double loss) {
        std::printf("Epoch %5zu | Loss: %.4f\n", epoch, loss);
        std::fflush(stdout);
      });

  print_predictions(data, backend->predict(result.params, data, options.precision));
  write_losses(loss_file, args.loss_csv, {"loss"}, {&result.losses});
  return 0;
}

// One training run of a comparison: "cpu/f32" and what it produced.
struct ComparedRun {
  std::string label;
  std::vector<double> losses;
  std::vector<bool> predicted;  // probability > 0.5, a bit per output (large data sets)
  double seconds = 0;
};

// The comparison table: each run beside the first, the reference.
void print_comparison(const std::vector<ComparedRun>& runs) {
  const ComparedRun& reference = runs.front();
  std::printf("%-10s %-13s %-16s %-9s %-20s %s\n", "run", "final loss", "max |loss diff|", "at epoch",
              "predictions as ref", "seconds");
  for (const auto& run : runs) {
    std::printf("%-10s %-13.6e ", run.label.c_str(), run.losses.back());
    if (&run == &reference) {
      std::printf("%-16s %-9s %-20s", "reference", "", "");
    } else {
      std::size_t worst = 0;  // the epoch where the losses differ most
      for (std::size_t e = 1; e < run.losses.size(); ++e) {
        if (std::abs(run.losses[e] - reference.losses[e]) > std::abs(run.losses[worst] - reference.losses[worst])) {
          worst = e;
        }
      }
      std::size_t agree = 0;
      for (std::size_t k = 0; k < run.predicted.size(); ++k) agree += run.predicted[k] == reference.predicted[k];
      const std::string agreement = std::to_string(agree) + " of " + std::to_string(run.predicted.size());
      std::printf("%-16.3e %-9zu %-20s", std::abs(run.losses[worst] - reference.losses[worst]), worst,
                  agreement.c_str());
    }
    std::printf(" %.4g\n", run.seconds);
  }
}

// Trains the same network from the same start on every backend x precision
// asked for, and sets each run beside the first, the reference (by default
// cpu/f64: NumPy's arithmetic): the largest loss difference over all epochs
// and where it falls, how many predictions agree, and the wall time.
int compare(const CompareArgs& args) {
  using namespace backprop;
  std::ofstream loss_file = open_loss_file(args.loss_csv);
  const Dataset data = load_data(args);
  const Parameters initial = initial_parameters(args, data);

  std::vector<std::string> backends = args.backends;
  if (backends.empty()) {
    for (const auto& info : list_backends()) {
      if (info.usable) backends.push_back(info.name);
    }
    std::stable_partition(backends.begin(), backends.end(), [](const auto& name) { return name == "cpu"; });
  }

  TrainOptions options;
  options.epochs = static_cast<std::size_t>(args.epochs);
  options.lr = args.lr;
  options.log_every = 0;
  std::fprintf(stderr, "backprop: comparing %zu-%zu-%zu, %zu samples, %zu epochs, on", initial.shape.inputs,
               initial.shape.hidden, initial.shape.outputs, data.samples(), options.epochs);
  for (const auto& name : backends) std::fprintf(stderr, " %s", name.c_str());
  std::fprintf(stderr, "\n");

  // Every backend made before the first run, so an unusable one fails at once.
  std::vector<std::unique_ptr<Backend>> made;
  for (const auto& name : backends) made.push_back(make_backend(name, backend_config(args)));

  std::vector<ComparedRun> runs;
  for (const auto& backend : made) {
    const std::string name = backend->name();
    for (const auto& precision : args.precisions) {
      options.precision = parse_precision(precision);
      ComparedRun run{name + "/" + precision, {}, {}, 0};
      const auto start = std::chrono::steady_clock::now();
      try {
        TrainResult result = backprop::train(*backend, data, initial, options);
        run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        run.losses = std::move(result.losses);
        for (double p : backend->predict(result.params, data, options.precision)) run.predicted.push_back(p > 0.5);
      } catch (const Error& e) {
        throw Error(run.label + ": " + e.what());
      }
      runs.push_back(std::move(run));
    }
  }

  print_comparison(runs);

  std::vector<std::string> names;
  std::vector<const std::vector<double>*> losses;
  for (const auto& run : runs) {
    names.push_back(run.label);
    losses.push_back(&run.losses);
  }
  write_losses(loss_file, args.loss_csv, names, losses);
  return 0;
}

int list() {
  for (const auto& info : backprop::list_backends()) {
    std::printf("%-6s %s\n", info.name.c_str(),
                info.usable ? "usable" : ("unusable: " + info.reason).c_str());
  }
  return 0;
}

// CLI11 check: a finite number above zero (rejects nan and inf, which
// CLI::PositiveNumber lets through).
const auto kFinitePositive = CLI::Validator(
    [](std::string& text) -> std::string {
      double value = 0;
      if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value) || !(value > 0)) {
        return "must be a finite number above 0, got '" + text + "'";
      }
      return {};
    },
    "FINITE > 0");

// The options train and compare share.
void add_run_options(CLI::App& cmd, RunArgs& args) {
  cmd.add_option("--init", args.init, "Initial weights: numpy (the article's) or xavier")
      ->check(CLI::IsMember({"numpy", "xavier"}))
      ->capture_default_str();
  cmd.add_option("--seed", args.seed, "Random seed, as np.random.seed")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{4294967295}))
      ->capture_default_str();
  cmd.add_option("--hidden", args.hidden, "Hidden units")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20))
      ->capture_default_str();
  cmd.add_option("--lr", args.lr, "Learning rate")->check(kFinitePositive)->capture_default_str();
  cmd.add_option("--epochs", args.epochs, "Epochs of full-batch gradient descent")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}))
      ->capture_default_str();
  auto* samples = cmd.add_option("--samples", args.samples,
                                 "XOR data set with this many samples (sample i is XOR point i mod 4)")
                      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 32))
                      ->capture_default_str();
  cmd.add_option("--data", args.data_csv, "CSV file: feature columns then the target, one sample a line")
      ->excludes(samples);
  cmd.add_option("--threads", args.threads, "CPU threads (0: all)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1024}))
      ->capture_default_str();
  cmd.add_flag("--tf32", args.tf32, "cuda: allow TF32 tensor cores in the GEMMs (not strict FP32)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train the two-layer sigmoid network of 'Forward Pass & Backprop in NumPy'.",
               "backprop"};
  app.require_subcommand(1);

  TrainArgs train_args;
  auto* train_cmd = app.add_subcommand("train", "Train the network and print its loss and predictions");
  train_cmd->add_option("--backend", train_args.backend, "Backend: auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  train_cmd->add_option("--precision", train_args.precision, "Arithmetic: f32 or f64")
      ->check(CLI::IsMember({"f32", "f64"}))
      ->capture_default_str();
  train_cmd->add_option("--log-every", train_args.log_every, "Print the loss every this many epochs (0: never)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000'000}))
      ->capture_default_str();
  add_run_options(*train_cmd, train_args);
  train_cmd->add_option("--loss-csv", train_args.loss_csv, "Write every epoch's loss to this CSV file");

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
  compare_cmd->add_option("--loss-csv", compare_args.loss_csv, "Write every run's loss at every epoch to this CSV file");

  auto* backends_cmd = app.add_subcommand("backends", "List the compiled backends, usable or not, and why");

  // CLI11 would only say "a subcommand is required"; name the stray word.
  const std::string first = argc > 1 ? argv[1] : "";
  if (!first.empty() && first[0] != '-' && first != "train" && first != "compare" && first != "backends") {
    std::fprintf(stderr, "backprop: error: unknown subcommand '%s'; use train, compare or backends\n", argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "backprop: error: %s\nRun 'backprop --help' for usage.\n", e.what());
    return 2;
  }

  try {
    int status = 2;
    if (train_cmd->parsed()) status = train(train_args);
    if (compare_cmd->parsed()) status = compare(compare_args);
    if (backends_cmd->parsed()) status = list();
    // Output that never arrived (a full disk, a closed file) is a failure,
    // not a success with nothing to show.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      std::fprintf(stderr, "backprop: error: writing the output failed: %s\n", std::strerror(errno));
      return 1;
    }
    return status;
  } catch (const backprop::Error& e) {
    std::fprintf(stderr, "backprop: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "backprop: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {  // not the library's own: still a message, not an abort
    std::fprintf(stderr, "backprop: error: %s\n", e.what());
    return 1;
  }
}
