#include <type_traits>

#include "activation_kernels.cuh"
#include "cuda_session.cuh"
#include "flat_parameters.hpp"
#include "parameter_check.cuh"
#include "update_parameters.cuh"

namespace backprop::cuda {

template <class T>
CudaSession<T>::CudaSession(const Dataset& data, const Parameters& params, const Optimizer& optimizer)
    : in_(static_cast<int>(params.shape.inputs)),
      hidden_(static_cast<int>(params.shape.hidden)),
      out_(static_cast<int>(params.shape.outputs)),
      samples_(data.samples()),
      layout_(layout_of(params.shape)),
      optimizer_(optimizer),
      x_(data.features.size()),
      y_(data.targets.size()),
      params_(layout_.count()),
      state_(optimizer.state_arrays() * layout_.count()),
      epoch_(1),
      step_(1) {
  // The data in T: float as it is; for double, a file's own values where
  // kept (Dataset::features_f64), else the floats widened on the device.
  if constexpr (std::is_same_v<T, float>) {
    x_.upload(data.features, stream());
    y_.upload(data.targets, stream());
  } else if (data.has_f64()) {
    x_.upload(data.features_f64, stream());
    y_.upload(data.targets_f64, stream());
  } else {
    DeviceBuffer<float> staging(data.features.size());
    staging.upload(data.features, stream());
    widen(staging.data(), x_.data(), data.features.size(), stream());
    y_.upload(std::vector<double>(data.targets.begin(), data.targets.end()), stream());
    stream_.synchronize();  // staging dies here
  }
  params_.upload(flat_parameters<T>(params), stream());
  if (state_.size() != 0) BACKPROP_CUDA_CHECK(cudaMemsetAsync(state_.data(), 0, state_.bytes(), stream()));
  step_.upload(std::vector<StepScalars>(1), stream());
  stream_.synchronize();
}

template <class T>
std::vector<double> CudaSession<T>::run_epochs_impl(std::size_t count, double lr) {
  const UpdateRule rule{optimizer_, lr};
  // The losses, then whether the parameters are finite after the last update.
  if (history_.size() < count + 1) history_ = DeviceBuffer<double>(count + 1);
  const bool one_launch = epochs_fit_one_launch();
  // The captured epoch bakes in the rule and the loss array; anything else
  // it reads stays where it is.
  if (!one_launch && (!epoch_graph_.ready() || lr != graph_lr_ || history_.data() != graph_history_)) {
    epoch_graph_.capture(stream(), [&] {
      if (optimizer_.counts_steps()) advance_step(rule, step_.data(), stream());
      enqueue_epoch(rule, history_.data(), epoch_.data());
    });
    graph_lr_ = lr;
    graph_history_ = history_.data();
  }
  BACKPROP_CUDA_CHECK(cudaMemsetAsync(epoch_.data(), 0, sizeof(unsigned), stream()));
  started_.record(stream());
  if (one_launch) {
    enqueue_epochs_in_one_launch(count, rule, history_.data(), epoch_.data());
  } else {
    for (std::size_t e = 0; e < count; ++e) epoch_graph_.launch(stream());
  }
  finished_.record(stream());
  check_parameters_finite(params_.data(), params_.size(), history_.data() + count, stream());
  auto losses = history_.download(count + 1, stream());
  last_run_seconds_ = Event::seconds_between(started_, finished_);
  steps_ += count;
  parameters_finite_ = losses.back() == 1.0;
  losses.pop_back();
  return losses;
}

template <class T>
Parameters CudaSession<T>::parameters_impl() const {
  const std::vector<T> flat = params_.download(params_.size(), stream());
  return unflatten_parameters({layout_.inputs, layout_.hidden, layout_.outputs}, flat.data());
}

template <class T>
OptimizerState CudaSession<T>::optimizer_state_impl() const {
  OptimizerState s;
  s.kind = optimizer_.kind;
  s.steps = steps_;
  s.shuffle_seed = shuffle_seed_;
  s.values = download_as_double(state_, stream());
  return s;
}

template <class T>
void CudaSession<T>::restore_impl(const OptimizerState& s) {
  check_restorable(s, optimizer_, layout_.count());
  if (s.values.empty() || state_.size() == 0) {
    if (state_.size() != 0) BACKPROP_CUDA_CHECK(cudaMemsetAsync(state_.data(), 0, state_.bytes(), stream()));
  } else {
    state_.upload(std::vector<T>(s.values.begin(), s.values.end()), stream());
  }
  StepScalars step;
  step.step = restored_steps(s, optimizer_);  // advance_step computes the next step's scalars from the count
  step_.upload(std::vector<StepScalars>{step}, stream());
  steps_ = step.step;
  stream_.synchronize();
}

template <class T>
std::size_t CudaSession<T>::memory_bytes_impl() const {
  return x_.bytes() + y_.bytes() + params_.bytes() + state_.bytes() + step_.bytes() + epoch_.bytes() +
         history_.bytes() + working_bytes();
}

template class CudaSession<float>;
template class CudaSession<double>;

}  // namespace backprop::cuda
