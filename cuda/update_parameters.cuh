// The GEMM path's end of an epoch: record its loss and step every
// parameter by the update rule (core/update_rule.hpp), in one launch; and
// the step count that Adam's bias correction reads, advanced on the device
// so that a captured epoch replays unchanged.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "update_rule.hpp"

namespace backprop::cuda {

constexpr int kUpdateBlock = 256;

template <class T>
struct UpdateArrays {
  T* params;                // flat (parameter_layout.hpp), updated in place
  const T* gradient;        // the mean gradient, flat
  std::size_t count;        // parameters
  StateArrays<T> state;
  const StepScalars* step;  // read when the optimizer counts steps
  const double* loss_sum;   // Σ bce over the data set
  double* loss_history;     // loss_history[*epoch] = loss_sum / N
  unsigned* epoch;          // advanced by one per update
};

// update_parameter(rule, *step, params[k], gradient[k], state, k) for every
// k; loss_history[*epoch] = loss_sum · inv_samples; ++*epoch.
template <class T>
void update_parameters(const UpdateRule& rule, const UpdateArrays<T>& a, double inv_samples, cudaStream_t stream);

// *step = step_scalars(rule, step->step + 1): before each update of an
// optimizer that counts steps.
void advance_step(const UpdateRule& rule, StepScalars* step, cudaStream_t stream);

}  // namespace backprop::cuda
