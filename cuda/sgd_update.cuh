// The end of an epoch: record its loss and take the gradient step on every
// parameter, in one launch.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace backprop::cuda {

constexpr int kUpdateBlock = 256;

// The GEMM path's (the narrow path finishes its own: finish_narrow_step).
template <class T>
struct SgdArrays {
  int inputs, hidden, outputs;
  T *W1, *b1, *W2, *b2;        // parameters, updated in place
  const T *dW1, *dW2;          // mean gradients (dZ2 carries the 1/N)
  const double *db1, *db2;     // mean gradients, summed in double
  const double* loss_sum;      // Σ bce over the data set
  double* loss_history;        // loss_history[*epoch] = loss_sum / N
  unsigned* epoch;             // advanced by one per update
};

// θ -= lr · dθ for θ in W1, b1, W2, b2; loss_history[*epoch] = loss_sum · inv_samples; ++*epoch.
template <class T>
void sgd_update(const SgdArrays<T>& a, T lr, double inv_samples, cudaStream_t stream);

}  // namespace backprop::cuda
