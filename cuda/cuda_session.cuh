// What every CUDA training session holds and does: the data set and the
// parameters on the device, one stream, and the epoch loop. An epoch is
// captured once as a CUDA graph and replayed (or, for a data set of a few
// hundred samples on the narrow path, all epochs run in one launch); each
// epoch writes its loss into a device array, copied back once per
// run_epochs call, so the host never waits inside the loop. How an epoch
// computes its gradients is the subclass's:
//   gemm_session.cu    cuBLAS GEMMs and fused element-wise kernels, any shape
//   narrow_session.cu  a fused step and a finishing kernel per epoch, for
//                      narrow networks
#pragma once

#include <memory>
#include <vector>

#include "backprop/backend.hpp"
#include "device_buffer.cuh"
#include "parameter_layout.hpp"
#include "update_rule.hpp"

namespace backprop::cuda {

template <class T>
class CudaSession : public TrainingSession {
 public:
  CudaSession(const Dataset& data, const Parameters& params, const Optimizer& optimizer);

  // Probabilities for the session's data set at the current parameters.
  virtual std::vector<double> probabilities() = 0;

  // The Batches::seed it was started with, for optimizer_state(): its
  // batches are the whole data set, but a checkpoint may be resumed on
  // the cpu in shuffled ones.
  void set_shuffle_seed(std::uint32_t seed) { shuffle_seed_ = seed; }

 protected:
  std::vector<double> run_epochs_impl(std::size_t count, double lr) final;
  Parameters parameters_impl() const final;
  OptimizerState optimizer_state_impl() const final;
  void restore_impl(const OptimizerState& state) final;
  std::size_t memory_bytes_impl() const final;
  // As checked on the device after the last run_epochs call.
  bool parameters_finite_impl() const final { return parameters_finite_; }

  // Enqueues one epoch on stream(): the gradients, then the update by
  // `rule` (its step's scalars already in current_step()), which writes the
  // loss to loss_history[*epoch] and advances *epoch.
  virtual void enqueue_epoch(const UpdateRule& rule, double* loss_history, unsigned* epoch) = 0;
  // Whether the subclass runs many epochs as one launch (a data set so small
  // that launches would bound it), and that launch: the same results as
  // `count` epochs of advance_step and enqueue_epoch.
  virtual bool epochs_fit_one_launch() const { return false; }
  virtual void enqueue_epochs_in_one_launch(std::size_t /*count*/, const UpdateRule& /*rule*/,
                                            double* /*loss_history*/, unsigned* /*epoch*/) {}
  // Device memory the subclass holds.
  virtual std::size_t working_bytes() const = 0;

  cudaStream_t stream() const { return stream_.get(); }

  // An epoch records its loss as the summed loss times this (a multiply in
  // the update kernel, not a division). gradients() takes the same product,
  // so the loss it returns is the one the next epoch records.
  double inv_samples() const { return 1.0 / static_cast<double>(samples_); }

  // The four parts of params_.
  T* W1() const { return params_.data() + layout_.W1(); }
  T* b1() const { return params_.data() + layout_.b1(); }
  T* W2() const { return params_.data() + layout_.W2(); }
  T* b2() const { return params_.data() + layout_.b2(); }
  StateArrays<T> state() const { return {state_.data(), layout_.count()}; }
  StepScalars* current_step() const { return step_.data(); }

  const int in_, hidden_, out_;
  const std::size_t samples_;
  const ParameterLayout layout_;
  const Optimizer optimizer_;
  Stream stream_;
  DeviceBuffer<T> x_;       // (N, inputs)
  DeviceBuffer<T> y_;       // (N, outputs)
  DeviceBuffer<T> params_;  // (layout_.count())
  DeviceBuffer<T> state_;   // (optimizer_.state_arrays(), layout_.count()), zeros at first

 private:
  DeviceBuffer<unsigned> epoch_;  // where the update writes the next loss
  DeviceBuffer<double> history_;  // losses of the current run_epochs call
  DeviceBuffer<StepScalars> step_;  // the scalars of the latest step, its count among them
  std::uint64_t steps_ = 0;         // updates so far (one per epoch: whole-data-set batches)
  std::uint32_t shuffle_seed_ = 42;
  CapturedGraph epoch_graph_;
  double graph_lr_ = 0;            // what the captured epoch bakes in
  double* graph_history_ = nullptr;
  Event started_, finished_;      // bracket the epochs of a run_epochs call
  bool parameters_finite_ = true;
};

// The sessions of the two paths (gemm_session.cu, narrow_session.cu).
template <class T>
std::unique_ptr<CudaSession<T>> make_gemm_session(const Dataset& data, const Parameters& params,
                                                  const Optimizer& optimizer, bool allow_tf32);
template <class T>
std::unique_ptr<CudaSession<T>> make_narrow_session(const Dataset& data, const Parameters& params,
                                                    const Optimizer& optimizer,
                                                    bool epochs_in_one_launch);

}  // namespace backprop::cuda
