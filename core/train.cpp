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
  if (options.early_stopping != 0 && options.validation == nullptr) {
    throw Error(ErrorKind::usage, "early stopping needs validation data");
  }
  if (options.early_stopping != 0 && options.log_every == 0) {
    throw Error(ErrorKind::usage, "early stopping counts log points: it needs log_every above 0");
  }
}

ValidationPoint score(const Backend& backend, const Parameters& params, const Dataset& validation,
                      Precision precision, std::size_t epoch) {
  const std::vector<double> p = backend.predict(params, validation, precision);
  double loss = 0;
  std::size_t right = 0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    const double y = validation.targets[k];
    const double clipped = std::clamp(p[k], 1e-9, 1 - 1e-9);
    loss -= y * std::log(clipped) + (1 - y) * std::log(1 - clipped);
    right += (p[k] > 0.5) == (y > 0.5) ? 1 : 0;
  }
  // Summed over outputs, averaged over samples: the training loss's form.
  return {epoch, loss / static_cast<double>(validation.samples()),
          static_cast<double>(right) / static_cast<double>(p.size())};
}

TrainResult train(const Backend& backend, const Dataset& data, const Parameters& initial,
                  const TrainOptions& options, const LogCallback& on_log, const CheckpointCallback& on_checkpoint,
                  const ValidationCallback& on_validation) {
  validate(options);
  if (options.validation != nullptr) {
    validate(*options.validation);
    if (options.validation->inputs != data.inputs || options.validation->outputs != data.outputs) {
      throw Error(ErrorKind::data, "the validation data has " + std::to_string(options.validation->inputs) +
                                       " features and " + std::to_string(options.validation->outputs) +
                                       " targets per sample, the training data " + std::to_string(data.inputs) +
                                       " and " + std::to_string(data.outputs));
    }
  }
  auto session = backend.start(data, initial, options.precision, options.optimizer, options.batches);
  if (options.resume != nullptr) session->restore(*options.resume);
  TrainResult result;
  result.losses.reserve(options.epochs);
  double best_loss = INFINITY;
  std::size_t since_best = 0;
  // Scores the parameters after `epoch` epochs; true when early stopping
  // ends the run there.
  auto score_now = [&](std::size_t epoch) {
    const Parameters params = session->parameters();
    const ValidationPoint point = score(backend, params, *options.validation, options.precision, epoch);
    result.validation.push_back(point);
    if (on_validation) on_validation(point);
    if (options.early_stopping == 0) return false;
    if (point.loss < best_loss) {
      best_loss = point.loss;
      result.params = params;
      result.state = session->optimizer_state();
      result.best_epoch = epoch;
      since_best = 0;
      return false;
    }
    return ++since_best >= options.early_stopping;
  };
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
    const bool log_point = done == 0 || (options.log_every != 0 && done % options.log_every == 0);
    if (options.validation != nullptr && log_point &&
        (result.validation.empty() || result.validation.back().epoch != done) && score_now(done)) {
      result.stopped_early = true;
      break;
    }
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
      on_checkpoint(session->parameters(), session->optimizer_state(), result.losses);
    }
  }
  if (options.validation != nullptr && !result.stopped_early && !result.interrupted &&
      result.validation.back().epoch != result.losses.size()) {
    score_now(result.losses.size());
  }
  // An interrupted run hands back where it stopped, as its losses do.
  if (options.early_stopping == 0 || result.validation.empty() || result.interrupted) {
    result.params = session->parameters();
    result.state = session->optimizer_state();
    result.best_epoch = result.losses.size();
  }
  return result;
}

}  // namespace backprop
