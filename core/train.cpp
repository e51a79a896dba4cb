// The training loop: epochs run in segments that end at log points, so a GPU
// backend copies losses back once per segment, never once per epoch.
#include <algorithm>
#include <cmath>
#include <string>

#include "backprop/error.hpp"
#include "backprop/train.hpp"

namespace backprop {
namespace {

// "nan", "inf" or "-inf": std::to_string would print a NaN's sign bit
// ("-nan"), which says nothing here.
std::string non_finite_name(double loss) {
  if (std::isnan(loss)) return "nan";
  return loss > 0 ? "inf" : "-inf";
}

}  // namespace

// Beyond this the loss history alone would take gigabytes.
constexpr std::size_t kMaxEpochs = 100'000'000;

void validate(const TrainOptions& options) {
  if (options.epochs == 0 || options.epochs > kMaxEpochs) {
    throw Error("epochs must be between 1 and " + std::to_string(kMaxEpochs) + ", got " +
                std::to_string(options.epochs));
  }
  if (!(options.lr > 0.0) || !std::isfinite(options.lr)) {
    throw Error("learning rate must be a finite number above 0");
  }
}

TrainResult train(const Backend& backend, const Dataset& data, const Parameters& initial,
                  const TrainOptions& options, const LogCallback& on_log) {
  validate(options);
  auto session = backend.start(data, initial, options.precision);
  TrainResult result;
  result.losses.reserve(options.epochs);
  const std::size_t segment = options.log_every == 0 ? options.epochs : options.log_every;
  for (std::size_t first = 0; first < options.epochs; first += segment) {
    const std::size_t count = std::min(segment, options.epochs - first);
    const auto losses = session->run_epochs(count, options.lr);
    for (std::size_t i = 0; i < losses.size(); ++i) {
      if (!std::isfinite(losses[i])) {
        throw Error("training diverged at epoch " + std::to_string(first + i) +
                    " (loss " + non_finite_name(losses[i]) + ")");
      }
    }
    if (on_log && options.log_every != 0) on_log(first, losses.front());
    result.losses.insert(result.losses.end(), losses.begin(), losses.end());
  }
  result.params = session->parameters();
  return result;
}

}  // namespace backprop
