#include "cuda_check.cuh"
#include "update_parameters.cuh"

namespace backprop::cuda {
namespace {

template <class T>
__global__ void update_parameters_kernel(UpdateRule rule, UpdateArrays<T> a, double inv_samples) {
  const std::size_t k = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (k == 0) {
    a.loss_history[*a.epoch] = *a.loss_sum * inv_samples;
    *a.epoch += 1;
  }
  if (k < a.count) {
    const StepScalars step = rule.optimizer.counts_steps() ? *a.step : StepScalars{};
    update_parameter(rule, step, a.params[k], a.gradient[k], a.state, k);
  }
}

__global__ void advance_step_kernel(UpdateRule rule, StepScalars* step) { *step = step_scalars(rule, step->step + 1); }

}  // namespace

template <class T>
void update_parameters(const UpdateRule& rule, const UpdateArrays<T>& a, double inv_samples, cudaStream_t stream) {
  const std::size_t blocks = (a.count + kUpdateBlock - 1) / kUpdateBlock;
  update_parameters_kernel<<<blocks, kUpdateBlock, 0, stream>>>(rule, a, inv_samples);
  BACKPROP_CUDA_CHECK_LAUNCH("update_parameters_kernel");
}

void advance_step(const UpdateRule& rule, StepScalars* step, cudaStream_t stream) {
  advance_step_kernel<<<1, 1, 0, stream>>>(rule, step);
  BACKPROP_CUDA_CHECK_LAUNCH("advance_step_kernel");
}

template void update_parameters<float>(const UpdateRule&, const UpdateArrays<float>&, double, cudaStream_t);
template void update_parameters<double>(const UpdateRule&, const UpdateArrays<double>&, double, cudaStream_t);

}  // namespace backprop::cuda
