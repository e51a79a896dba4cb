// The checks every backend's public calls share, done once before the
// backend's own implementation runs.
#include <cmath>
#include <string>

#include "backprop/backend.hpp"
#include "backprop/error.hpp"

namespace backprop {

std::string_view to_string(Precision precision) {
  return precision == Precision::f32 ? "f32" : "f64";
}

Precision parse_precision(std::string_view text) {
  if (text == "f32") return Precision::f32;
  if (text == "f64") return Precision::f64;
  throw Error("unknown precision '" + std::string(text) + "'; use f32 or f64");
}

namespace {

void check_compatible(const Parameters& params, const Dataset& data) {
  validate(params);
  validate(data);
  if (params.shape.inputs != data.inputs || params.shape.outputs != data.outputs) {
    throw Error("the network takes " + std::to_string(params.shape.inputs) + " inputs and " +
                std::to_string(params.shape.outputs) + " outputs, the data set has " +
                std::to_string(data.inputs) + " features and " + std::to_string(data.outputs) +
                " targets per sample");
  }
}

}  // namespace

std::unique_ptr<TrainingSession> Backend::start(const Dataset& data, const Parameters& params,
                                                Precision precision) const {
  check_compatible(params, data);
  return start_impl(data, params, precision);
}

std::vector<double> Backend::predict(const Parameters& params, const Dataset& data,
                                     Precision precision) const {
  check_compatible(params, data);
  return predict_impl(params, data, precision);
}

std::vector<double> TrainingSession::run_epochs(std::size_t count, double lr) {
  if (!(lr > 0.0) || !std::isfinite(lr)) {
    throw Error("learning rate must be a finite number above 0, got " + std::to_string(lr));
  }
  if (count == 0) return {};
  return run_epochs_impl(count, lr);
}

}  // namespace backprop
