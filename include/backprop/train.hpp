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
  // Read between the backend's calls: once true, train() stops and returns
  // the epochs done so far (TrainResult::interrupted). The calls are then
  // kept to about a quarter of a second each, so that a stop is seen soon,
  // with the same bits as one call. Null: never stops.
  const std::atomic<bool>* stop = nullptr;
};

// Throws backprop::Error (usage) unless epochs >= 1, lr is finite and
// positive and the optimizer is valid (validate(Optimizer)).
void validate(const TrainOptions& options);

struct TrainResult {
  Parameters params;           // after the last update
  std::vector<double> losses;  // losses[e] = loss of epoch e, before its update
  bool interrupted = false;    // options.stop ended the run after losses.size() epochs
};

// Called with (epoch, loss) at every epoch that is a multiple of log_every.
using LogCallback = std::function<void(std::size_t epoch, double loss)>;

// Called after every checkpoint_every epochs with the parameters after
// them and the losses so far.
using CheckpointCallback = std::function<void(const Parameters& params, const std::vector<double>& losses)>;

// A loss or parameter that is NaN or infinite after any epoch, the last
// included, throws backprop::Error (diverged) "training diverged at epoch E".
TrainResult train(const Backend& backend, const Dataset& data, const Parameters& initial,
                  const TrainOptions& options, const LogCallback& on_log = {},
                  const CheckpointCallback& on_checkpoint = {});

}  // namespace backprop
