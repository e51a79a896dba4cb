// `backprop train`: trains on one backend and prints what the article
// prints, the loss every --log-every epochs and a table of predictions (an
// accuracy line for data sets too long for a table), and writes the losses
// and the trained parameters to the files --loss-csv and --params-csv name,
// each whole or not at all, every --checkpoint-every epochs and at the end.
// SIGINT or SIGTERM stops it at the next safe point with those files
// written for the epochs done (interruption.hpp).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "interruption.hpp"
#include "prediction_report.hpp"
#include "run_setup.hpp"

namespace backprop::cli {
namespace {

// A loss this many times the first epoch's says that the run is climbing
// away from a minimum, not descending: the learning rate is too large.
constexpr double kRisingLossFactor = 10;

void warn_if_the_loss_rose(const std::vector<double>& losses, double lr) {
  for (std::size_t e = 1; e < losses.size(); ++e) {
    if (losses[e] > kRisingLossFactor * losses.front()) {
      std::fprintf(stderr,
                   "backprop: warning: the loss rose to %s at epoch %zu, over %g times the first epoch's %s; "
                   "the learning rate (--lr %g) may be too large\n",
                   format_loss(losses[e]).c_str(), e, kRisingLossFactor, format_loss(losses.front()).c_str(), lr);
      return;
    }
  }
}

// " | Validation: loss 0.1234, accuracy 95.61%"
std::string validation_text(const ValidationPoint& point) {
  char accuracy[32];
  std::snprintf(accuracy, sizeof accuracy, "%.2f%%", 100.0 * point.accuracy);
  return " | Validation: loss " + format_loss(point.loss) + ", accuracy " + accuracy;
}

}  // namespace

int train_command(const TrainArgs& args) {
  const Optimizer optimizer = chosen_optimizer(args);  // its flags' errors before any work
  // --params-csv may be the --init-csv it starts from: the continuation,
  // which replaces that file only once there is a new network to put there.
  check_distinct_files(
      {{"--data", args.data_csv}, {"--init-csv", args.init_csv}, {"--validation-data", args.validation_csv}},
      {{"--loss-csv", args.loss_csv}, {"--params-csv", args.params_csv}}, {"--init-csv", "--params-csv"});
  const bool validating = !args.validation_csv.empty() || args.validation_split.has_value();
  if (args.early_stopping != 0 && !validating) {
    throw Error(ErrorKind::usage, "--early-stopping needs --validation-data or --validation-split");
  }
  if (args.early_stopping != 0 && args.log_every == 0) {
    throw Error(ErrorKind::usage, "--early-stopping counts log points: it needs --log-every above 0");
  }
  const bool f64 = parse_precision(args.precision) == Precision::f64;
  Dataset data = load_data(args, f64);
  Dataset validation;
  if (args.validation_split) {
    validation = split_off_validation(data, *args.validation_split);
  } else if (!args.validation_csv.empty()) {
    validation = Dataset::from_csv(args.validation_csv, static_cast<std::size_t>(args.targets), f64);
  }
  OptimizerState saved;  // --init-csv's checkpoint, if it is one
  const Parameters initial = initial_parameters(args, data, &saved);
  check_writable(args.loss_csv, "loss file");
  check_writable(args.params_csv, "parameter file");

  const auto backend = make_chosen_backend(args.backend, args);

  TrainOptions options;
  options.epochs = static_cast<std::size_t>(args.epochs);
  options.lr = chosen_learning_rate(args);
  options.optimizer = optimizer;
  options.batches = chosen_batches(args);
  options.validation = validating ? &validation : nullptr;
  options.early_stopping = static_cast<std::size_t>(args.early_stopping);
  options.precision = parse_precision(args.precision);
  options.log_every = static_cast<std::size_t>(args.log_every);
  options.checkpoint_every = static_cast<std::size_t>(args.checkpoint_every);
  options.stop = &stop_requested();

  std::vector<ValidationPoint> scored;  // as train() scores them
  // A checkpoint is the two files as they would be if the run ended there,
  // the network first: a kill between the two leaves the loss file one
  // checkpoint behind, never a network older than its losses.
  // A checkpoint holds the state where resuming needs it: a stateful
  // optimizer's arrays, or the position in a shuffled batch order. Full-
  // batch sgd (the article's) resumes from the parameters alone.
  const bool keep_state = optimizer.kind != OptimizerKind::sgd || args.batch_size != 0;
  auto checkpoint = [&](const Parameters& params, const OptimizerState& state, const std::vector<double>& losses) {
    write_parameters(args.params_csv, params, keep_state ? &state : nullptr);
    write_losses(args.loss_csv, {"loss"}, {&losses}, validating ? &scored : nullptr);
  };

  const std::size_t batch = options.batches.size;
  const std::string batches =
      batch == 0 || batch >= data.samples()
          ? ""
          : ", batches of " + std::to_string(batch) +
                (options.batches.shuffle ? " shuffled (seed " + std::to_string(options.batches.seed) + ")"
                                         : " in file order");
  std::fprintf(stderr, "backprop: training %s on %s (%s), %s, %s at lr %g%s\n", to_string(initial.shape).c_str(),
               backend->name().c_str(), std::string(to_string(options.precision)).c_str(),
               count_of(data.samples(), "sample").c_str(), std::string(to_string(options.optimizer.kind)).c_str(),
               options.lr, batches.c_str());
  // Going on from a checkpoint: its state where it is this optimizer's.
  if (!args.init_csv.empty()) {
    const std::string kind(to_string(optimizer.kind));
    if (!saved.values.empty() && optimizer.state_arrays() == 0) {
      std::fprintf(stderr, "backprop: note: %s holds %s's state; %s keeps none\n", args.init_csv.c_str(),
                   std::string(to_string(saved.kind)).c_str(), kind.c_str());
      saved.values.clear();
    } else if (!saved.values.empty() && !holds_state_of(saved, optimizer)) {
      std::fprintf(stderr, "backprop: note: %s holds %s's state; %s starts its own from zero\n",
                   args.init_csv.c_str(), std::string(to_string(saved.kind)).c_str(), kind.c_str());
      saved.values.clear();
      saved.steps = 0;
    } else if (saved.values.empty() && optimizer.state_arrays() != 0) {
      std::fprintf(stderr, "backprop: note: %s holds no %s state; it starts from zero\n", args.init_csv.c_str(),
                   kind.c_str());
      saved.steps = 0;
    }
    options.resume = &saved;
    // The batch order the checkpoint's run drew, unless asked otherwise.
    if (!args.shuffle_seed && saved.epochs != 0) options.batches.seed = saved.shuffle_seed;
  }
  if (validating) {
    std::fprintf(stderr, "backprop: validating on %s%s\n", count_of(validation.samples(), "sample").c_str(),
                 args.validation_split ? " (the end of --data)" : "");
  }
  TrainResult result;
  {
    const StoppableWork stoppable;
    result = train(
        *backend, data, initial, options,
        [&](std::size_t epoch, double loss) {
          const bool scored_here = !scored.empty() && scored.back().epoch == epoch;
          std::printf("Epoch %5zu | Loss: %s%s\n", epoch, format_loss(loss).c_str(),
                      scored_here ? validation_text(scored.back()).c_str() : "");
          std::fflush(stdout);
        },
        checkpoint, [&](const ValidationPoint& point) { scored.push_back(point); });
  }
  // The scoring after the last epoch, which no log line shows.
  if (validating && !scored.empty() && scored.back().epoch == result.losses.size() && !result.stopped_early) {
    std::printf("After %zu epochs%s\n", result.losses.size(), validation_text(scored.back()).c_str());
  }
  if (options.early_stopping != 0 && !result.stopped_early && !result.interrupted &&
      result.best_epoch != result.losses.size()) {
    std::fprintf(stderr, "backprop: keeping the network of epoch %zu, of the lowest validation loss\n",
                 result.best_epoch);
  }
  if (result.stopped_early) {
    const auto best = std::find_if(scored.begin(), scored.end(),
                                   [&](const ValidationPoint& p) { return p.epoch == result.best_epoch; });
    std::fprintf(stderr,
                 "backprop: stopped early at epoch %zu: %zu log points without a lower validation loss; keeping "
                 "the network of epoch %zu (validation loss %s)\n",
                 result.losses.size(), options.early_stopping, result.best_epoch, format_loss(best->loss).c_str());
  }
  warn_if_the_loss_rose(result.losses, options.lr);

  if (result.interrupted) {
    std::fprintf(stderr, "backprop: interrupted at epoch %zu of %zu\n", result.losses.size(), options.epochs);
    // The files as of the epochs done; none when no epoch was.
    if (!result.losses.empty()) {
      write_losses(args.loss_csv, {"loss"}, {&result.losses}, validating ? &scored : nullptr);
      write_parameters(args.params_csv, result.params, keep_state ? &result.state : nullptr);
    }
    return 128 + stop_signal();
  }
  print_predictions(data, backend->predict(result.params, data, options.precision));
  write_losses(args.loss_csv, {"loss"}, {&result.losses}, validating ? &scored : nullptr);
  write_parameters(args.params_csv, result.params, keep_state ? &result.state : nullptr);
  return 0;
}

}  // namespace backprop::cli
