// Backends and their registry.
//
// A Backend trains the network on one kind of hardware. Its public calls are
// non-virtual: they check their inputs once and then hand off to the
// backend's *_impl. Training happens in a TrainingSession that holds the data
// and parameters resident (on the GPU for cuda), so a run of epochs needs no
// host round trip per epoch: losses come back once per run_epochs call.
//
// Threads: list_backends, make_backend and a Backend's calls may come from
// several threads at once, and each session started from one Backend is
// independent of the others (the cpu backend's sessions take turns on its
// thread pool, so running them at once gives the same bits, not more speed).
// A TrainingSession itself is for one thread at a time.
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backprop/batches.hpp"
#include "backprop/dataset.hpp"
#include "backprop/network.hpp"
#include "backprop/optimizer.hpp"

namespace backprop {

enum class Precision { f32, f64 };

std::string_view to_string(Precision precision);
// "f32" or "f64"; anything else throws backprop::Error.
Precision parse_precision(std::string_view text);

struct BackendConfig {
  unsigned threads = 0;     // cpu: worker threads, 0 = every hardware thread, at most 64 (cpu_threads)
  bool allow_tf32 = false;  // cuda: let cuBLAS use TF32 tensor cores (not strict FP32)
  bool fuse_narrow = true;  // cuda: train a narrow network (one output, <= 4 inputs, <= 1024 hidden
                            // units) with one fused kernel per epoch; false: cuBLAS GEMMs always
  bool epochs_in_one_launch = true;  // cuda: such a network on at most 256 samples (fewer above 8
                                     // hidden units, none above 256) runs all the epochs of a
                                     // run_epochs call in one launch; false: one graph replay
                                     // per epoch (the same bits, more launches)
  std::string cpu_isa;      // cpu: instruction-set build ("avx512", "avx2", "generic"); empty = best here
};

// The threads the cpu backend runs for BackendConfig::threads = requested:
// every hardware thread for 0, else `requested` up to 64, the most an
// epoch can use (its samples are cut into at most 64 segments).
unsigned cpu_threads(unsigned requested);

// Mean loss and its gradient with respect to every parameter, in double.
struct Gradients {
  double loss = 0;
  std::vector<double> dW1, db1, dW2, db2;  // shaped like the parameters
};

class TrainingSession {
 public:
  virtual ~TrainingSession() = default;

  // Runs `count` epochs, each one step of the session's optimizer
  // (Backend::start) with learning rate lr per batch. Returns the loss of
  // each epoch: each sample's loss at the parameters its batch's step
  // started from, averaged over the epoch's samples (with one batch, the
  // loss before the epoch's update, as the article's loop has it). The
  // optimizer's state (momentum, Adam's moments and step count) and the
  // batches' order carry over from one call to the next. A loss, or after the last update a
  // parameter, that is NaN or infinite throws Error (diverged) "training
  // diverged at epoch E", E counting every epoch the session has run.
  std::vector<double> run_epochs(std::size_t count, double lr);

  // Epochs run so far, over every run_epochs call (and those of a restored
  // state).
  std::size_t epochs_run() const { return epochs_run_; }

  // Where the run stands (OptimizerState): with the parameters, what a
  // later session needs to go on with the same bits.
  OptimizerState optimizer_state() const;

  // Goes on from `state`, as a session that had run state.epochs epochs
  // would: the optimizer's arrays and step count, and the batch order. An
  // Error (data) for arrays of another optimizer (holds_state_of) or of
  // another size.
  void restore(const OptimizerState& state);

  // The current parameters, converted to double.
  Parameters parameters() const { return parameters_impl(); }

  // Loss and gradients at the current parameters; changes nothing.
  Gradients gradients() { return gradients_impl(); }

  // Seconds the last run_epochs call spent training, measured where the work
  // runs: the wall clock for cpu, CUDA events on the session's stream for
  // cuda (excluding the copy of the losses back to the host).
  double last_run_seconds() const { return last_run_seconds_; }

  // Bytes the session allocated for training, where the work runs: device
  // memory for cuda (its copy of the data set, parameters, gradients and
  // per-chunk working arrays, cuBLAS's workspace; not the CUDA context or
  // cuBLAS's own state), host memory for cpu (working arrays and partial
  // sums, batches gathered; the cpu session reads the caller's Dataset in
  // place, but for an f64 session of float-only data, which it widens). It does not
  // grow with the number of epochs run.
  std::size_t memory_bytes() const { return memory_bytes_impl(); }

 protected:
  virtual std::vector<double> run_epochs_impl(std::size_t count, double lr) = 0;
  virtual Parameters parameters_impl() const = 0;
  virtual Gradients gradients_impl() = 0;
  virtual std::size_t memory_bytes_impl() const = 0;
  // The arrays and step count (epochs is the base's), and their restoring,
  // checked against the session's optimizer and layout.
  virtual OptimizerState optimizer_state_impl() const = 0;
  virtual void restore_impl(const OptimizerState& state) = 0;
  // Whether every parameter is finite; by default from parameters_impl().
  // Inline, like every virtual of this class, so that a backend module
  // needs nothing of the library's objects for its sessions.
  virtual bool parameters_finite_impl() const {
    const Parameters p = parameters_impl();
    for (const std::vector<double>* values : {&p.W1, &p.b1, &p.W2, &p.b2}) {
      for (const double v : *values) {
        if (!std::isfinite(v)) return false;
      }
    }
    return true;
  }

  double last_run_seconds_ = 0;

 private:
  std::size_t epochs_run_ = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;

  // Starts training `params` on `data` with `optimizer` (validate()d; its
  // state starts at zero), in `batches`. The session may keep a reference
  // to `data`: it must outlive the session (so a temporary is refused).
  // The cuda backend takes whole-data-set batches only, so far (an Error,
  // usage, says so).
  std::unique_ptr<TrainingSession> start(const Dataset& data, const Parameters& params, Precision precision,
                                         const Optimizer& optimizer = {}, const Batches& batches = {}) const;
  std::unique_ptr<TrainingSession> start(Dataset&& data, const Parameters& params, Precision precision,
                                         const Optimizer& optimizer = {}, const Batches& batches = {}) const = delete;

  // Output probabilities, (samples, outputs) row-major.
  std::vector<double> predict(const Parameters& params, const Dataset& data,
                              Precision precision) const;

 protected:
  virtual std::unique_ptr<TrainingSession> start_impl(const Dataset& data, const Parameters& params,
                                                      Precision precision, const Optimizer& optimizer,
                                                      const Batches& batches) const = 0;
  virtual std::vector<double> predict_impl(const Parameters& params, const Dataset& data,
                                           Precision precision) const = 0;
};

struct BackendInfo {
  std::string name;
  bool usable = false;
  std::string reason;  // why it is unusable; empty when usable
};

// Every backend compiled into this build, usable or not, in preference order
// (GPU first, CPU last). The first question about cuda opens its module,
// libbackprop-cuda.so, and with it cuBLAS, when the NVIDIA driver is there.
std::vector<BackendInfo> list_backends();

// "cpu", "cuda", or "auto" (the first usable backend in list_backends()).
// It asks only the backends it needs: make_backend("cpu") never opens the
// cuda module. An unknown or unusable name throws backprop::Error saying what
// is wrong and what is available.
std::unique_ptr<Backend> make_backend(std::string_view name, const BackendConfig& config = {});

}  // namespace backprop
