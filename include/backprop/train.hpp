// Training loop shared by every backend: runs the epochs in segments that end
// at log points, reports the logged losses, and stops on divergence.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "backprop/backend.hpp"

namespace backprop {

struct TrainOptions {
  std::size_t epochs = 10000;
  double lr = 1.0;
  Precision precision = Precision::f32;
  std::size_t log_every = 1000;  // 0: no log points, one segment
};

// Throws backprop::Error unless epochs >= 1 and lr is finite and positive.
void validate(const TrainOptions& options);

struct TrainResult {
  Parameters params;           // after the last update
  std::vector<double> losses;  // losses[e] = loss of epoch e, before its update
};

// Called with (epoch, loss) at every epoch that is a multiple of log_every.
using LogCallback = std::function<void(std::size_t epoch, double loss)>;

// A loss that is NaN or infinite throws backprop::Error
// "training diverged at epoch E".
TrainResult train(const Backend& backend, const Dataset& data, const Parameters& initial,
                  const TrainOptions& options, const LogCallback& on_log = {});

}  // namespace backprop
