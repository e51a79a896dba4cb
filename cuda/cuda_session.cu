#include <type_traits>

#include "activation_kernels.cuh"
#include "cuda_session.cuh"
#include "parameter_check.cuh"

namespace backprop::cuda {
namespace {

// The parameters (always double on the host) in the session's precision.
template <class T>
std::vector<T> in_precision(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

template <class T>
CudaSession<T>::CudaSession(const Dataset& data, const Parameters& params)
    : in_(static_cast<int>(params.shape.inputs)),
      hidden_(static_cast<int>(params.shape.hidden)),
      out_(static_cast<int>(params.shape.outputs)),
      samples_(data.samples()),
      x_(data.features.size()),
      y_(data.targets.size()),
      W1_(params.W1.size()), b1_(params.b1.size()), W2_(params.W2.size()), b2_(params.b2.size()),
      epoch_(1) {
  if constexpr (std::is_same_v<T, float>) {
    x_.upload(data.features, stream());
  } else {
    DeviceBuffer<float> staging(data.features.size());
    staging.upload(data.features, stream());
    widen(staging.data(), x_.data(), data.features.size(), stream());
    stream_.synchronize();  // staging dies here
  }
  y_.upload(data.targets, stream());
  W1_.upload(in_precision<T>(params.W1), stream());
  b1_.upload(in_precision<T>(params.b1), stream());
  W2_.upload(in_precision<T>(params.W2), stream());
  b2_.upload(in_precision<T>(params.b2), stream());
  stream_.synchronize();
}

template <class T>
std::vector<double> CudaSession<T>::run_epochs_impl(std::size_t count, double lr) {
  const T rate = static_cast<T>(lr);
  // The losses, then whether the parameters are finite after the last update.
  if (history_.size() < count + 1) history_ = DeviceBuffer<double>(count + 1);
  const bool one_launch = epochs_fit_one_launch();
  // The captured epoch bakes in the rate and the loss array; anything else
  // it reads stays where it is.
  if (!one_launch && (!epoch_graph_.ready() || rate != graph_rate_ || history_.data() != graph_history_)) {
    epoch_graph_.capture(stream(), [&] { enqueue_epoch(rate, history_.data(), epoch_.data()); });
    graph_rate_ = rate;
    graph_history_ = history_.data();
  }
  BACKPROP_CUDA_CHECK(cudaMemsetAsync(epoch_.data(), 0, sizeof(unsigned), stream()));
  started_.record(stream());
  if (one_launch) {
    enqueue_epochs_in_one_launch(count, rate, history_.data(), epoch_.data());
  } else {
    for (std::size_t e = 0; e < count; ++e) epoch_graph_.launch(stream());
  }
  finished_.record(stream());
  check_parameters_finite<T>({W1_.data(), b1_.data(), W2_.data(), b2_.data(), W1_.size(), b1_.size(), W2_.size(),
                              b2_.size()},
                             history_.data() + count, stream());
  auto losses = history_.download(count + 1, stream());
  last_run_seconds_ = Event::seconds_between(started_, finished_);
  parameters_finite_ = losses.back() == 1.0;
  losses.pop_back();
  return losses;
}

template <class T>
Parameters CudaSession<T>::parameters_impl() const {
  Parameters p;
  p.shape = {static_cast<std::size_t>(in_), static_cast<std::size_t>(hidden_), static_cast<std::size_t>(out_)};
  p.W1 = download_as_double(W1_, stream());
  p.b1 = download_as_double(b1_, stream());
  p.W2 = download_as_double(W2_, stream());
  p.b2 = download_as_double(b2_, stream());
  return p;
}

template <class T>
std::size_t CudaSession<T>::memory_bytes_impl() const {
  return x_.bytes() + y_.bytes() + W1_.bytes() + b1_.bytes() + W2_.bytes() + b2_.bytes() + epoch_.bytes() +
         history_.bytes() + working_bytes();
}

template class CudaSession<float>;
template class CudaSession<double>;

}  // namespace backprop::cuda
