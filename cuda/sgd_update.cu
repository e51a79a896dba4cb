#include "cuda_check.cuh"
#include "sgd_update.cuh"

namespace backprop::cuda {
namespace {

template <class T>
__global__ void sgd_update_kernel(SgdArrays<T> a, T lr, double inv_samples) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const std::size_t n_w1 = static_cast<std::size_t>(a.inputs) * a.hidden;
  const std::size_t n_w2 = static_cast<std::size_t>(a.hidden) * a.outputs;
  if (i == 0) {
    a.loss_history[*a.epoch] = *a.loss_sum * inv_samples;
    *a.epoch += 1;
  }
  // One flat index over [ W1 | b1 | W2 | b2 ].
  if (i < n_w1) {
    a.W1[i] -= lr * a.dW1[i];
  } else if (i < n_w1 + a.hidden) {
    const std::size_t j = i - n_w1;
    a.b1[j] -= lr * static_cast<T>(a.db1[j]);
  } else if (i < n_w1 + a.hidden + n_w2) {
    const std::size_t k = i - n_w1 - a.hidden;
    a.W2[k] -= lr * a.dW2[k];
  } else if (i < n_w1 + a.hidden + n_w2 + a.outputs) {
    const std::size_t o = i - n_w1 - a.hidden - n_w2;
    a.b2[o] -= lr * static_cast<T>(a.db2[o]);
  }
}

}  // namespace

template <class T>
void sgd_update(const SgdArrays<T>& a, T lr, double inv_samples, cudaStream_t stream) {
  const std::size_t total = static_cast<std::size_t>(a.inputs) * a.hidden + a.hidden +
                            static_cast<std::size_t>(a.hidden) * a.outputs + a.outputs;
  const std::size_t blocks = (total + kUpdateBlock - 1) / kUpdateBlock;
  sgd_update_kernel<<<blocks, kUpdateBlock, 0, stream>>>(a, lr, inv_samples);
  BACKPROP_CUDA_CHECK_LAUNCH("sgd_update_kernel");
}

template void sgd_update<float>(const SgdArrays<float>&, float, double, cudaStream_t);
template void sgd_update<double>(const SgdArrays<double>&, double, double, cudaStream_t);

}  // namespace backprop::cuda
