// `backprop evaluate`: a network saved by `train --params-csv`, run forward
// on a data set without training. Prints its loss (the loss that the next
// epoch of training would log) and its predictions as train does, and writes
// every probability to the file --predictions-csv names.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "prediction_report.hpp"
#include "run_setup.hpp"

namespace backprop::cli {

int evaluate_command(const EvaluateArgs& args) {
  check_distinct_files({{"--data", args.data_csv}, {"--params-csv", args.params_csv}},
                       {{"--predictions-csv", args.predictions_csv}});
  const Dataset data = load_data(args, parse_precision(args.precision) == Precision::f64);
  const Parameters params = load_network(args.params_csv, data);
  check_writable(args.predictions_csv, "predictions file");

  const auto backend = make_chosen_backend(args.backend, args);
  const Precision precision = parse_precision(args.precision);
  std::fprintf(stderr, "backprop: evaluating %s from %s on %s (%s), %s\n", to_string(params.shape).c_str(),
               args.params_csv.c_str(), backend->name().c_str(), std::string(to_string(precision)).c_str(),
               count_of(data.samples(), "sample").c_str());

  // A session's loss is the one training computes, before any update.
  const double loss = backend->start(data, params, precision)->gradients().loss;
  if (!std::isfinite(loss)) {
    throw Error(ErrorKind::diverged, "the loss of the network in " + args.params_csv + " on this data set is not finite (" +
                std::to_string(loss) + ")");
  }
  const std::vector<double> probabilities = backend->predict(params, data, precision);

  std::printf("Loss: %.9g\n", loss);
  print_predictions(data, probabilities);
  write_predictions(args.predictions_csv, data, probabilities);
  return 0;
}

}  // namespace backprop::cli
