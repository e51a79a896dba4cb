// `backprop compare`: trains the same network from the same start on every
// backend x precision asked for, and sets each run beside the first, the
// reference (by default cpu/f64: NumPy's arithmetic): the largest loss
// difference over all epochs and where it falls, how many predictions
// agree, and the wall time.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "interruption.hpp"
#include "run_setup.hpp"

namespace backprop::cli {
namespace {

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

}  // namespace

int compare_command(const CompareArgs& args) {
  const Optimizer optimizer = chosen_optimizer(args);  // its flags' errors before any work
  check_distinct_files({{"--data", args.data_csv}, {"--init-csv", args.init_csv}}, {{"--loss-csv", args.loss_csv}});
  const bool f64 = std::find(args.precisions.begin(), args.precisions.end(), "f64") != args.precisions.end();
  const Dataset data = load_data(args, f64);
  const Parameters initial = initial_parameters(args, data);
  check_writable(args.loss_csv, "loss file");

  std::vector<std::string> backends = args.backends;
  if (backends.empty()) {
    for (const auto& info : list_backends()) {
      if (info.usable) backends.push_back(info.name);
    }
    std::stable_partition(backends.begin(), backends.end(), [](const auto& name) { return name == "cpu"; });
  }

  // The cuda sessions step on the whole data set only, so far: said before
  // the first run, not after the cpu's.
  const Batches batches = chosen_batches(args);
  if (batches.size != 0 && batches.size < data.samples() &&
      std::find(backends.begin(), backends.end(), "cuda") != backends.end()) {
    throw Error(ErrorKind::usage, "--batch-size " + std::to_string(batches.size) +
                                      ": the cuda backend trains on the whole data set per step so far; "
                                      "compare mini-batches with --backends cpu");
  }
  TrainOptions options;
  options.epochs = static_cast<std::size_t>(args.epochs);
  options.lr = chosen_learning_rate(args);
  options.optimizer = optimizer;
  options.batches = batches;
  options.log_every = 0;
  options.stop = &stop_requested();
  std::fprintf(stderr, "backprop: comparing %s, %s, %s, %s at lr %g, on", to_string(initial.shape).c_str(),
               count_of(data.samples(), "sample").c_str(), count_of(options.epochs, "epoch").c_str(),
               std::string(to_string(optimizer.kind)).c_str(), options.lr);
  for (const auto& name : backends) std::fprintf(stderr, " %s", name.c_str());
  std::fprintf(stderr, "\n");

  // Every backend made before the first run, so an unusable one fails at once.
  std::vector<std::unique_ptr<Backend>> made;
  for (const auto& name : backends) made.push_back(make_backend(name, backend_config(args)));

  std::vector<ComparedRun> runs;
  const StoppableWork stoppable;
  for (const auto& backend : made) {
    const std::string name = backend->name();
    for (const auto& precision : args.precisions) {
      options.precision = parse_precision(precision);
      ComparedRun run{name + "/" + precision, {}, {}, 0};
      const auto start = std::chrono::steady_clock::now();
      try {
        TrainResult result = train(*backend, data, initial, options);
        // A comparison of runs cut short would compare nothing: no table, no file.
        if (result.interrupted) {
          throw Error(ErrorKind::interrupted, "interrupted at epoch " + std::to_string(result.losses.size()) +
                                                  " of " + std::to_string(options.epochs));
        }
        run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        run.losses = std::move(result.losses);
        for (double p : backend->predict(result.params, data, options.precision)) run.predicted.push_back(p > 0.5);
      } catch (const Error& e) {
        throw Error(e.kind(), run.label + ": " + e.what());
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
  write_losses(args.loss_csv, names, losses);
  return 0;
}

}  // namespace backprop::cli
