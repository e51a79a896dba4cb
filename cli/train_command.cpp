// `backprop train`: trains on one backend and prints what the article
// prints, the loss every --log-every epochs and a table of predictions (an
// accuracy line for data sets too long for a table), and writes the losses
// and the trained parameters to the files --loss-csv and --params-csv name.
#include <cstdio>
#include <string>
#include <vector>

#include "prediction_report.hpp"
#include "run_setup.hpp"

namespace backprop::cli {

int train_command(const TrainArgs& args) {
  // Inputs read before any output is opened, so that --params-csv may
  // overwrite the --init-csv it started from.
  const Dataset data = load_data(args);
  const Parameters initial = initial_parameters(args, data);
  std::ofstream loss_file = open_output_file(args.loss_csv, "loss file");
  std::ofstream params_file = open_output_file(args.params_csv, "parameter file");

  const auto backend = make_chosen_backend(args.backend, args);

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
