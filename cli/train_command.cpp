// `backprop train`: trains on one backend and prints what the article
// prints, the loss every --log-every epochs and a table of predictions (an
// accuracy line for data sets too long for a table), and writes the losses
// and the trained parameters to the files --loss-csv and --params-csv name.
#include <cstdio>
#include <string>
#include <vector>

#include "run_setup.hpp"

namespace backprop::cli {
namespace {

constexpr std::size_t kTableRows = 8;     // larger data sets get an accuracy line instead
constexpr std::size_t kTableValues = 16;  // a wider row shows its first values and its width

// "0 1" for {0, 1}: values as %g, space-separated; a row of more than
// kTableValues ends "... (784 values)" so that the table stays a table.
template <class V>
std::string joined(const V* values, std::size_t count) {
  std::string text;
  char cell[48];
  const std::size_t shown = count > kTableValues ? kTableValues - 1 : count;
  for (std::size_t i = 0; i < shown; ++i) {
    std::snprintf(cell, sizeof cell, "%s%g", i ? " " : "", static_cast<double>(values[i]));
    text += cell;
  }
  if (shown < count) {
    std::snprintf(cell, sizeof cell, " ... (%zu values)", count);
    text += cell;
  }
  return text;
}

void print_predictions(const Dataset& data, const std::vector<double>& probabilities) {
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

}  // namespace

int train_command(const TrainArgs& args) {
  // Inputs read before any output is opened, so that --params-csv may
  // overwrite the --init-csv it started from.
  const Dataset data = load_data(args);
  const Parameters initial = initial_parameters(args, data);
  std::ofstream loss_file = open_output_file(args.loss_csv, "loss file");
  std::ofstream params_file = open_output_file(args.params_csv, "parameter file");

  if (args.backend == "auto") {
    for (const auto& info : list_backends()) {
      if (info.usable) break;
      std::fprintf(stderr, "backprop: %s is not usable (%s); falling back\n", info.name.c_str(),
                   info.reason.c_str());
    }
  }
  const auto backend = make_backend(args.backend, backend_config(args));

  TrainOptions options;
  options.epochs = static_cast<std::size_t>(args.epochs);
  options.lr = args.lr;
  options.precision = parse_precision(args.precision);
  options.log_every = static_cast<std::size_t>(args.log_every);

  std::fprintf(stderr, "backprop: training %s on %s (%s), %s\n", to_string(initial.shape).c_str(),
               backend->name().c_str(), std::string(to_string(options.precision)).c_str(),
               count_of(data.samples(), "sample").c_str());
  const TrainResult result = train(*backend, data, initial, options, [](std::size_t epoch, double loss) {
    std::printf("Epoch %5zu | Loss: %.4f\n", epoch, loss);
    std::fflush(stdout);
  });

  print_predictions(data, backend->predict(result.params, data, options.precision));
  write_losses(loss_file, args.loss_csv, {"loss"}, {&result.losses});
  write_parameters(params_file, args.params_csv, result.params);
  return 0;
}

}  // namespace backprop::cli
