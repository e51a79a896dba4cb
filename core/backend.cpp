// The checks every backend's public calls share, done once before the
// backend's own implementation runs.
#include <cmath>
#include <string>

#include "backprop/backend.hpp"
#include "backprop/error.hpp"

namespace backprop {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return "usage";
    case ErrorKind::data: return "data";
    case ErrorKind::io: return "io";
    case ErrorKind::device: return "device";
    case ErrorKind::out_of_memory: return "out of memory";
    case ErrorKind::diverged: return "diverged";
    case ErrorKind::interrupted: return "interrupted";
  }
  return "unknown";
}

std::string_view to_string(Precision precision) {
  return precision == Precision::f32 ? "f32" : "f64";
}

Precision parse_precision(std::string_view text) {
  if (text == "f32") return Precision::f32;
  if (text == "f64") return Precision::f64;
  throw Error(ErrorKind::usage, "unknown precision '" + std::string(text) + "'; use f32 or f64");
}

namespace {

// "nan", "inf" or "-inf": std::to_string would print a NaN's sign bit
// ("-nan"), which says nothing here.
std::string non_finite_name(double value) {
  if (std::isnan(value)) return "nan";
  return value > 0 ? "inf" : "-inf";
}

void check_precision(Precision precision) {
  if (precision != Precision::f32 && precision != Precision::f64) {
    throw Error(ErrorKind::usage, "unknown precision (value " + std::to_string(static_cast<int>(precision)) +
                                      "); use Precision::f32 or Precision::f64");
  }
}

void check_compatible(const Parameters& params, const Dataset& data) {
  validate(params);
  validate(data);
  if (params.shape.inputs != data.inputs || params.shape.outputs != data.outputs) {
    throw Error(ErrorKind::data, "the network takes " + std::to_string(params.shape.inputs) + " inputs and " +
                std::to_string(params.shape.outputs) + " outputs, the data set has " +
                std::to_string(data.inputs) + " features and " + std::to_string(data.outputs) +
                " targets per sample");
  }
}

}  // namespace

std::unique_ptr<TrainingSession> Backend::start(const Dataset& data, const Parameters& params, Precision precision,
                                                const Optimizer& optimizer, const Batches& batches) const {
  check_precision(precision);
  check_compatible(params, data);
  validate(optimizer);
  return start_impl(data, params, precision, optimizer, batches);
}

std::vector<double> Backend::predict(const Parameters& params, const Dataset& data,
                                     Precision precision) const {
  check_precision(precision);
  check_compatible(params, data);
  return predict_impl(params, data, precision);
}

OptimizerState TrainingSession::optimizer_state() const {
  OptimizerState state = optimizer_state_impl();
  state.epochs = epochs_run_;
  return state;
}

void TrainingSession::restore(const OptimizerState& state) {
  restore_impl(state);
  epochs_run_ = static_cast<std::size_t>(state.epochs);
}

std::vector<double> TrainingSession::run_epochs(std::size_t count, double lr) {
  if (!(lr > 0.0) || !std::isfinite(lr)) {
    throw Error(ErrorKind::usage, "learning rate must be a finite number above 0, got " + std::to_string(lr));
  }
  if (count == 0) return {};
  std::vector<double> losses = run_epochs_impl(count, lr);
  const std::size_t first = epochs_run_;
  epochs_run_ += count;
  for (std::size_t i = 0; i < losses.size(); ++i) {
    if (!std::isfinite(losses[i])) {
      throw Error(ErrorKind::diverged, "training diverged at epoch " + std::to_string(first + i) + " (loss " +
                                           non_finite_name(losses[i]) + ")");
    }
  }
  // A parameter that the last update made infinite has no loss yet to show it.
  if (!parameters_finite_impl()) {
    throw Error(ErrorKind::diverged, "training diverged at epoch " + std::to_string(first + count - 1) +
                                         " (a parameter is not finite after its update)");
  }
  return losses;
}


}  // namespace backprop
