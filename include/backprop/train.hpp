// Training loop shared by every backend: runs the epochs in segments that end
// at log points, reports the logged losses, and stops on divergence.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

#include "backprop/backend.hpp"

namespace backprop {

struct TrainOptions {
  std::size_t epochs = 10000;
  double lr = 1.0;
  Optimizer optimizer;                  // sgd by default, the article's
  Batches batches;                      // the whole data set by default, the article's
  Precision precision = Precision::f32;
  std::size_t log_every = 1000;         // 0: no log points, one segment
  std::size_t checkpoint_every = 0;     // 0: no checkpoints
  // A run to go on from (TrainingSession::restore): `initial` then holds the
  // parameters it saved. The losses, log points and checkpoints still count
  // this call's epochs from 0. Null: a fresh start.
  const OptimizerState* resume = nullptr;
  // Scored at epoch 0, at every log point and after the last epoch
  // (TrainResult::validation): its loss and accuracy at the parameters of
  // that moment. Null: none. It must outlive the call.
  const Dataset* validation = nullptr;
  // With validation and log points: stop once this many scorings in a row
  // have not lowered the best validation loss, and return the parameters
  // that had it (also when the run ends first; an interrupted run returns
  // its last ones). 0: never stop early (and return the last parameters).
  std::size_t early_stopping = 0;
  // Read between the backend's calls: once true, train() stops and returns
  // the epochs done so far (TrainResult::interrupted). The calls are then
  // kept to about a quarter of a second each, so that a stop is seen soon,
  // with the same bits as one call. Null: never stops.
  const std::atomic<bool>* stop = nullptr;
};

// Throws backprop::Error (usage) unless epochs >= 1, lr is finite and
// positive, the optimizer is valid (validate(Optimizer)) and early stopping
// has validation data and log points.
void validate(const TrainOptions& options);

// A network's loss and accuracy on the validation data after `epoch`
// epochs: the binary cross-entropy of its probabilities, clipped to
// [1e-9, 1 - 1e-9] as the article's compute_loss does, summed over the
// outputs and averaged over the samples, as the training loss is; and the
// share of outputs on the target's side of 0.5.
struct ValidationPoint {
  std::size_t epoch = 0;
  double loss = 0;
  double accuracy = 0;
};

ValidationPoint score(const Backend& backend, const Parameters& params, const Dataset& validation,
                      Precision precision, std::size_t epoch = 0);

struct TrainResult {
  Parameters params;           // after the last update; with early stopping, those of best_epoch
  OptimizerState state;        // where the run stands with `params`, to resume it
  std::vector<double> losses;  // losses[e] = loss of epoch e, before its update
  std::vector<ValidationPoint> validation;  // every scoring, in order (with options.validation)
  std::size_t best_epoch = 0;  // the epochs `params` had: with early stopping, the best scoring's
  bool stopped_early = false;  // early stopping ended the run after losses.size() epochs
  bool interrupted = false;    // options.stop ended the run after losses.size() epochs
};

// Called with (epoch, loss) at every epoch that is a multiple of log_every.
using LogCallback = std::function<void(std::size_t epoch, double loss)>;

// Called after every checkpoint_every epochs with the parameters after
// them, where the run stands, and the losses so far.
using CheckpointCallback =
    std::function<void(const Parameters& params, const OptimizerState& state, const std::vector<double>& losses)>;

// Called with each validation scoring as it is made: at a log point, before
// that log point's LogCallback.
using ValidationCallback = std::function<void(const ValidationPoint& point)>;

// A loss or parameter that is NaN or infinite after any epoch, the last
// included, throws backprop::Error (diverged) "training diverged at epoch E".
TrainResult train(const Backend& backend, const Dataset& data, const Parameters& initial,
                  const TrainOptions& options, const LogCallback& on_log = {},
                  const CheckpointCallback& on_checkpoint = {}, const ValidationCallback& on_validation = {});

}  // namespace backprop
