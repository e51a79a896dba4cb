// Whether the parameters are still finite after a run of epochs: one launch
// after the run, whose answer travels back with the run's losses, so that
// a parameter the last update made infinite is caught without a second
// wait on the device (TrainingSession::run_epochs).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace backprop::cuda {

constexpr int kCheckBlock = 256;

// *finite = 1 when every one of the `count` values is finite, else 0.
template <class T>
void check_parameters_finite(const T* params, std::size_t count, double* finite, cudaStream_t stream);

}  // namespace backprop::cuda
