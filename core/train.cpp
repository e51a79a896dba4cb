// The training loop: epochs run in calls that end at log points and
// checkpoints, so a GPU backend copies losses back once per call, never once
// per epoch. The session itself refuses a loss or parameter that is not
// finite (TrainingSession::run_epochs).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "backprop/error.hpp"
#include "backprop/train.hpp"

namespace backprop {
namespace {

// Beyond this the loss history alone would take gigabytes.
constexpr std::size_t kMaxEpochs = 100'000'000;

// A call's length when a stop may come: about this long, so that the stop
// is seen within it.
constexpr double kStoppableCallSeconds = 0.25;

// The epochs the next call may run, from how fast the last one ran: 1 at
// first, then about kStoppableCallSeconds' worth, growing at most 16-fold
// a call.
std::size_t next_call_budget(std::size_t last_epochs, double last_seconds) {
  const double per_second = static_cast<double>(last_epochs) / std::max(last_seconds, 1e-9);
  const double budget = std::min(per_second * kStoppableCallSeconds, 16.0 * static_cast<double>(last_epochs));
  return std::max<std::size_t>(1, static_cast<std::size_t>(budget));
}

}  // namespace

void validate(const TrainOptions& options) {
  if (options.epochs == 0 || options.epochs > kMaxEpochs) {
    throw Error(ErrorKind::usage, "epochs must be between 1 and " + std::to_string(kMaxEpochs) + ", got " +
                                      std::to_string(options.epochs));
  }
  if (!(options.lr > 0.0) || !std::isfinite(options.lr)) {
    throw Error(ErrorKind::usage, "learning rate must be a finite number above 0");
  }
  validate(options.optimizer);
}

TrainResult train(const Backend& backend, const Dataset& data, const Parameters& initial,
                  const TrainOptions& options, const LogCallback& on_log, const CheckpointCallback& on_checkpoint) {
  validate(options);
  auto session = backend.start(data, initial, options.precision, options.optimizer, options.batches);
  TrainResult result;
  result.losses.reserve(options.epochs);
  // The next epoch that is a multiple of `every` after `done` (none: the end).
  auto next_multiple = [&](std::size_t done, std::size_t every) {
    return every == 0 ? options.epochs : std::min(options.epochs, (done / every + 1) * every);
  };
  std::size_t budget = 1;
  while (result.losses.size() < options.epochs) {
    if (options.stop != nullptr && options.stop->load()) {
      result.interrupted = true;
      break;
    }
    const std::size_t done = result.losses.size();
    std::size_t count =
        std::min(next_multiple(done, options.log_every), next_multiple(done, options.checkpoint_every)) - done;
    if (options.stop != nullptr) count = std::min(count, budget);
    const auto start = std::chrono::steady_clock::now();
    const auto losses = session->run_epochs(count, options.lr);
    budget = next_call_budget(count, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (on_log && options.log_every != 0 && done % options.log_every == 0) on_log(done, losses.front());
    result.losses.insert(result.losses.end(), losses.begin(), losses.end());
    if (on_checkpoint && options.checkpoint_every != 0 && result.losses.size() % options.checkpoint_every == 0 &&
        result.losses.size() < options.epochs) {
      on_checkpoint(session->parameters(), result.losses);
    }
  }
  result.params = session->parameters();
  return result;
}

}  // namespace backprop
