// The `backprop` command line: train the network on a chosen backend and
// print the article's log and table, or list the compiled backends.
//
// Exit status: 0 success, 2 usage errors (bad flags or values), 1 failures
// at run time (unreadable data, unusable backend, divergence).
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <new>
#include <string>

#include <unistd.h>

#include "backprop/backprop.hpp"

namespace {

struct TrainArgs {
  std::string backend = "auto";
  std::string precision = "f32";
  std::string init = "numpy";
  std::int64_t seed = 42;
  std::int64_t hidden = 4;
  double lr = 1.0;
  std::int64_t epochs = 10000;
  std::int64_t log_every = 1000;
  std::int64_t samples = 4;
  std::int64_t threads = 0;
  bool tf32 = false;
  std::string data_csv;
  std::string loss_csv;
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

int train(const TrainArgs& args) {
  using namespace backprop;
  // Refuse an unwritable loss file now, not after a long training run.
  std::ofstream loss_file;
  if (!args.loss_csv.empty()) {
    loss_file.open(args.loss_csv, std::ios::trunc);
    if (!loss_file) {
      throw Error("cannot write loss file '" + args.loss_csv + "': " + std::strerror(errno));
    }
  }

  if (args.data_csv.empty()) refuse_if_too_large(static_cast<std::size_t>(args.samples));
  const Dataset data = args.data_csv.empty()
                           ? Dataset::xor_points(static_cast<std::size_t>(args.samples))
                           : Dataset::from_csv(args.data_csv);

  BackendConfig config;
  config.threads = static_cast<unsigned>(args.threads);
  config.allow_tf32 = args.tf32;
  if (args.backend == "auto") {
    for (const auto& info : list_backends()) {
      if (info.usable) break;
      std::fprintf(stderr, "backprop: %s is not usable (%s); falling back\n", info.name.c_str(),
                   info.reason.c_str());
    }
  }
  const auto backend = make_backend(args.backend, config);

  const Shape shape{data.inputs, static_cast<std::size_t>(args.hidden), data.outputs};
  const auto kind = args.init == "xavier" ? Initialisation::xavier : Initialisation::numpy;
  const Parameters initial = initialise(kind, shape, static_cast<std::uint32_t>(args.seed));

  TrainOptions options;
  options.epochs = static_cast<std::size_t>(args.epochs);
  options.lr = args.lr;
  options.precision = parse_precision(args.precision);
  options.log_every = static_cast<std::size_t>(args.log_every);

  std::fprintf(stderr, "backprop: training %zu-%zu-%zu on %s (%s), %zu samples\n", shape.inputs,
               shape.hidden, shape.outputs, backend->name().c_str(),
               std::string(to_string(options.precision)).c_str(), data.samples());
  const TrainResult result =
      backprop::train(*backend, data, initial, options, [](std::size_t epoch, double loss) {
        std::printf("Epoch %5zu | Loss: %.4f\n", epoch, loss);
        std::fflush(stdout);
      });

  print_predictions(data, backend->predict(result.params, data, options.precision));

  if (loss_file.is_open()) {
    loss_file << "epoch,loss\n";
    char line[64];
    for (std::size_t e = 0; e < result.losses.size(); ++e) {
      std::snprintf(line, sizeof line, "%zu,%.17g\n", e, result.losses[e]);
      loss_file << line;
    }
    loss_file.close();
    if (!loss_file) throw Error("writing loss file '" + args.loss_csv + "' failed");
  }
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train the two-layer sigmoid network of 'Forward Pass & Backprop in NumPy'.",
               "backprop"};
  app.require_subcommand(1);

  TrainArgs args;
  auto* train_cmd = app.add_subcommand("train", "Train the network and print its loss and predictions");
  train_cmd->add_option("--backend", args.backend, "Backend: auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  train_cmd->add_option("--precision", args.precision, "Arithmetic: f32 or f64")
      ->check(CLI::IsMember({"f32", "f64"}))
      ->capture_default_str();
  train_cmd->add_option("--init", args.init, "Initial weights: numpy (the article's) or xavier")
      ->check(CLI::IsMember({"numpy", "xavier"}))
      ->capture_default_str();
  train_cmd->add_option("--seed", args.seed, "Random seed, as np.random.seed")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{4294967295}))
      ->capture_default_str();
  train_cmd->add_option("--hidden", args.hidden, "Hidden units")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20))
      ->capture_default_str();
  train_cmd->add_option("--lr", args.lr, "Learning rate")->check(kFinitePositive)->capture_default_str();
  train_cmd->add_option("--epochs", args.epochs, "Epochs of full-batch gradient descent")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}))
      ->capture_default_str();
  train_cmd->add_option("--log-every", args.log_every, "Print the loss every this many epochs (0: never)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000'000}))
      ->capture_default_str();
  auto* samples = train_cmd->add_option("--samples", args.samples,
                                        "XOR data set with this many samples (sample i is XOR point i mod 4)")
                      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 32))
                      ->capture_default_str();
  train_cmd->add_option("--data", args.data_csv, "CSV file: feature columns then the target, one sample a line")
      ->excludes(samples);
  train_cmd->add_option("--loss-csv", args.loss_csv, "Write every epoch's loss to this CSV file");
  train_cmd->add_option("--threads", args.threads, "CPU threads (0: all)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1024}))
      ->capture_default_str();
  train_cmd->add_flag("--tf32", args.tf32, "cuda: allow TF32 tensor cores in the GEMMs (not strict FP32)");

  auto* backends_cmd = app.add_subcommand("backends", "List the compiled backends, usable or not, and why");

  // CLI11 would only say "a subcommand is required"; name the stray word.
  if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != "train" && std::string(argv[1]) != "backends") {
    std::fprintf(stderr, "backprop: error: unknown subcommand '%s'; use train or backends\n", argv[1]);
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
    if (train_cmd->parsed()) return train(args);
    if (backends_cmd->parsed()) return list();
  } catch (const backprop::Error& e) {
    std::fprintf(stderr, "backprop: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "backprop: error: out of memory\n");
    return 1;
  }
  return 2;
}
