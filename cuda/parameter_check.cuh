// Whether the parameters are still finite after a run of epochs: one launch
// after the run, whose answer travels back with the run's losses, so that
// a parameter the last update made infinite is caught without a second
// wait on the device (TrainingSession::run_epochs).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace backprop::cuda {

constexpr int kCheckBlock = 256;

template <class T>
struct ParameterArrays {
  const T *W1, *b1, *W2, *b2;
  std::size_t n_W1, n_b1, n_W2, n_b2;  // values in each
};

// *finite = 1 when every value of the four arrays is finite, else 0.
template <class T>
void check_parameters_finite(const ParameterArrays<T>& p, double* finite, cudaStream_t stream);

}  // namespace backprop::cuda
