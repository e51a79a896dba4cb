// Parameters (four host arrays in double) to and from the flat layout of
// parameter_layout.hpp, in a backend's working precision: what each
// backend does when a session starts and when it hands its parameters out.
#pragma once

#include <string>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/network.hpp"
#include "backprop/optimizer.hpp"
#include "parameter_layout.hpp"

namespace backprop {

inline ParameterLayout layout_of(const Shape& shape) { return {shape.inputs, shape.hidden, shape.outputs}; }

// [W1 | b1 | W2 | b2] converted to T.
template <class T>
std::vector<T> flat_parameters(const Parameters& p) {
  std::vector<T> flat;
  flat.reserve(layout_of(p.shape).count());
  for (const std::vector<double>* part : {&p.W1, &p.b1, &p.W2, &p.b2}) flat.insert(flat.end(), part->begin(), part->end());
  return flat;
}

// The four arrays of `flat` (layout_of(shape).count() values), widened.
template <class T>
Parameters unflatten_parameters(const Shape& shape, const T* flat) {
  const ParameterLayout at = layout_of(shape);
  Parameters p;
  p.shape = shape;
  p.W1.assign(flat + at.W1(), flat + at.b1());
  p.b1.assign(flat + at.b1(), flat + at.W2());
  p.W2.assign(flat + at.W2(), flat + at.b2());
  p.b2.assign(flat + at.b2(), flat + at.count());
  return p;
}

// The checks of TrainingSession::restore: arrays of the session's optimizer,
// `count` values each, or none at all (a state with steps and epochs only,
// which leaves a stateful optimizer's arrays at zero and its step count at
// 0, restored_steps says). sgd keeps no arrays and ignores any.
inline void check_restorable(const OptimizerState& state, const Optimizer& optimizer, std::size_t count) {
  if (state.values.empty() || optimizer.state_arrays() == 0) return;
  if (!holds_state_of(state, optimizer)) {
    throw Error(ErrorKind::data, "the state holds " + std::string(to_string(state.kind)) + "'s arrays; the session's optimizer is " +
                                     std::string(to_string(optimizer.kind)));
  }
  const std::size_t want = optimizer.state_arrays() * count;
  if (state.values.size() != want) {
    throw Error(ErrorKind::data, "the state holds " + std::to_string(state.values.size()) + " values; " +
                                     std::string(to_string(optimizer.kind)) + " keeps " + std::to_string(want) +
                                     " for this network");
  }
}

// The step count a restored session goes on from: a stateful optimizer
// without its arrays starts them, and its count, afresh (Adam's bias
// correction would otherwise treat zero moments as old ones).
inline std::uint64_t restored_steps(const OptimizerState& state, const Optimizer& optimizer) {
  return optimizer.state_arrays() != 0 && state.values.empty() ? 0 : state.steps;
}

}  // namespace backprop
