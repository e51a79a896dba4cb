// The CPU reference backend: plain C++, no BLAS, float32 or float64.
//
// One step: the batch's samples (the whole data set by default) are cut
// into chunks of chunk_samples(shape), and the chunks into at most
// kMaxSegments contiguous segments. Threads take whole segments; each
// segment sums its chunks in order, and the segment sums are added in
// segment order. Both cuts depend on the batch's size and the shape alone,
// so the losses are bit-identical for any thread count. A shuffled batch is
// gathered into a contiguous copy first.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>

#include "backend_entry.hpp"
#include "chunk_kernels.hpp"
#include "flat_parameters.hpp"
#include "host_memory.hpp"
#include "numpy_random.hpp"
#include "thread_pool.hpp"
#include "update_rule.hpp"

namespace backprop {
namespace cpu {
namespace {

constexpr std::size_t kMaxSegments = 64;  // enough to balance cores, few enough to sum cheaply
// The segments' sums (a gradient each) take at most this, or one segment's
// if more: wide networks get fewer segments.
constexpr std::size_t kMaxSegmentSumBytes = std::size_t{256} << 20;

std::size_t most_segments(const Shape& shape) {
  const std::size_t gradient_bytes = layout_of(shape).sums() * sizeof(double);
  return std::clamp<std::size_t>(kMaxSegmentSumBytes / gradient_bytes, 1, kMaxSegments);
}

struct Segmentation {
  std::size_t chunk, chunks, chunks_per_segment, segments;

  Segmentation(std::size_t samples, const Shape& shape)
      : chunk(chunk_samples(shape.inputs, shape.hidden, shape.outputs)),
        chunks((samples + chunk - 1) / chunk),
        chunks_per_segment((chunks + most_segments(shape) - 1) / most_segments(shape)),
        segments((chunks + chunks_per_segment - 1) / chunks_per_segment) {}
};

// The data set in the working precision: the float arrays, a file's own
// doubles (Dataset::features_f64), or, for float data trained in f64, a
// widened copy.
template <class T>
class DataIn {
 public:
  explicit DataIn(const Dataset& d) {
    if constexpr (std::is_same_v<T, float>) {
      features_ = d.features.data();
      targets_ = d.targets.data();
    } else if (d.has_f64()) {
      features_ = d.features_f64.data();
      targets_ = d.targets_f64.data();
    } else {
      require_host_memory(static_cast<double>(d.features.size() + d.targets.size()) * sizeof(T),
                          "the data set widened to double");
      own_features_.assign(d.features.begin(), d.features.end());
      own_targets_.assign(d.targets.begin(), d.targets.end());
      features_ = own_features_.data();
      targets_ = own_targets_.data();
    }
  }
  DataIn(const DataIn&) = delete;
  DataIn& operator=(const DataIn&) = delete;

  const T* features() const { return features_; }
  const T* targets() const { return targets_; }
  std::size_t own_bytes() const { return (own_features_.size() + own_targets_.size()) * sizeof(T); }

 private:
  std::vector<T> own_features_, own_targets_;
  const T* features_;
  const T* targets_;
};

// The kernels' view of flat parameters (parameter_layout.hpp).
template <class T>
ChunkWeights<T> view_of(const ParameterLayout& at, const T* flat) {
  return {at.inputs, at.hidden, at.outputs, flat + at.W1(), flat + at.b1(), flat + at.W2(), flat + at.b2()};
}

// Working memory for each worker thread, `values` of T each, every area
// starting on a 64-byte boundary (kernels keep whole vectors there); none
// when values is 0.
template <class T>
class WorkerScratch {
 public:
  WorkerScratch(unsigned workers, std::size_t values)
      : per_worker_((values + kAlignment - 1) / kAlignment * kAlignment),
        storage_(values == 0 ? 0 : workers * per_worker_ + kAlignment) {}

  std::size_t bytes() const { return storage_.size() * sizeof(T); }

  T* operator[](unsigned worker) {
    if (storage_.empty()) return nullptr;
    const auto address = reinterpret_cast<std::uintptr_t>(storage_.data());
    T* const first = storage_.data() + (64 - address % 64) % 64 / sizeof(T);
    return first + worker * per_worker_;
  }

 private:
  static constexpr std::size_t kAlignment = 64 / sizeof(T);  // values in 64 bytes
  std::size_t per_worker_;
  std::vector<T> storage_;
};

// `workers`, once it is sure that their scratch of `work_values` values of T
// each and `sums` more doubles fit in memory: a session that would not is
// refused up front, naming the bytes.
template <class T>
unsigned workers_that_fit(unsigned workers, std::size_t work_values, std::size_t sums) {
  const double bytes = static_cast<double>(workers) * static_cast<double>(work_values) * sizeof(T) +
                       static_cast<double>(sums) * sizeof(double);
  require_host_memory(bytes, "the cpu backend's working memory for this network");
  return workers;
}

template <class T>
class CpuSession final : public TrainingSession {
 public:
  // The session shares the backend's pool, so it outlives the backend.
  CpuSession(const Dataset& data, const Parameters& params, const Optimizer& optimizer, const Batches& batches,
             std::shared_ptr<ThreadPool> pool, const ChunkKernels<T>& kernels)
      : data_(data),
        in_(data),
        shape_(params.shape),
        layout_(layout_of(params.shape)),
        params_(flat_parameters<T>(params)),
        optimizer_(optimizer),
        state_(optimizer.state_arrays() * layout_.count()),
        batch_(batches.size == 0 ? data.samples() : std::min(batches.size, data.samples())),
        shuffled_(batches.shuffle && batch_ < data.samples()),
        order_seed_(batches.seed),
        order_rng_(batches.seed),
        batch_features_(shuffled_ ? batch_ * data.inputs : 0),
        batch_targets_(shuffled_ ? batch_ * data.outputs : 0),
        most_segments_(std::min(Segmentation(data.samples(), params.shape).chunks, most_segments(params.shape))),
        pool_(std::move(pool)),
        kernels_(kernels),
        scratch_(workers_that_fit<T>(pool_->size(), kernels.gradients_work_values(weights()),
                                     (most_segments_ + 1) * layout_.sums()),
                 kernels.gradients_work_values(weights())),
        segment_sums_(most_segments_ * layout_.sums()),
        sums_(layout_.sums()) {}

 protected:
  std::vector<double> run_epochs_impl(std::size_t count, double lr) override {
    std::vector<double> losses(count);
    const auto start = std::chrono::steady_clock::now();
    const std::size_t n_samples = data_.samples();
    for (std::size_t e = 0; e < count; ++e) {
      if (shuffled_) order_rng_.permutation(n_samples, order_);
      double loss_sum = 0;  // each sample's loss at its batch's parameters
      for (std::size_t first = 0; first < n_samples; first += batch_) {
        const std::size_t n = std::min(batch_, n_samples - first);
        if (shuffled_) {
          gather(first, n);
          sum_gradients(batch_features_.data(), batch_targets_.data(), n);
        } else {
          sum_gradients(in_.features() + first * layout_.inputs, in_.targets() + first * layout_.outputs, n);
        }
        loss_sum += sums_[layout_.loss()];
        update({optimizer_, lr}, n);
      }
      losses[e] = loss_sum / static_cast<double>(n_samples);
    }
    last_run_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return losses;
  }

  Parameters parameters_impl() const override { return unflatten_parameters(shape_, params_.data()); }

  std::size_t memory_bytes_impl() const override {
    return scratch_.bytes() + (segment_sums_.size() + sums_.size()) * sizeof(double) +
           (params_.size() + state_.size()) * sizeof(T) + order_.capacity() * sizeof(std::uint32_t) +
           (batch_features_.size() + batch_targets_.size()) * sizeof(T) + in_.own_bytes();
  }

  bool parameters_finite_impl() const override {
    return std::all_of(params_.begin(), params_.end(), [](T v) { return std::isfinite(v); });
  }

  OptimizerState optimizer_state_impl() const override {
    OptimizerState s;
    s.kind = optimizer_.kind;
    s.steps = steps_;
    s.shuffle_seed = order_seed_;
    s.values.assign(state_.begin(), state_.end());
    return s;
  }

  void restore_impl(const OptimizerState& s) override {
    check_restorable(s, optimizer_, layout_.count());
    if (s.values.empty() || state_.empty()) {
      std::fill(state_.begin(), state_.end(), T(0));
    } else {
      std::transform(s.values.begin(), s.values.end(), state_.begin(), [](double v) { return static_cast<T>(v); });
    }
    steps_ = restored_steps(s, optimizer_);
    // The batch order after s.epochs epochs: their permutations drawn again.
    order_rng_ = NumpyRandom(order_seed_);
    if (shuffled_) {
      for (std::uint64_t e = 0; e < s.epochs; ++e) order_rng_.permutation(data_.samples(), order_);
    }
  }

  Gradients gradients_impl() override {
    sum_gradients(in_.features(), in_.targets(), data_.samples());
    const double n = static_cast<double>(data_.samples());
    auto mean = [&](std::size_t from, std::size_t to) {
      std::vector<double> v(sums_.begin() + from, sums_.begin() + to);
      for (double& g : v) g /= n;
      return v;
    };
    const ParameterLayout& at = layout_;
    return {sums_[at.loss()] / n, mean(at.W1(), at.b1()), mean(at.b1(), at.W2()), mean(at.W2(), at.b2()),
            mean(at.b2(), at.count())};
  }

 private:
  // sums_ = loss and gradients summed over the n samples at x, y (not yet
  // / n), cut as Segmentation(n, shape) says.
  void sum_gradients(const T* x, const T* y, std::size_t n_samples) {
    const Segmentation cut(n_samples, shape_);
    const std::size_t width = layout_.sums();
    const ChunkWeights<T> w = weights();
    pool_->parallel_for(cut.segments, [&](std::size_t seg, unsigned worker) {
      double* sums = segment_sums_.data() + seg * width;
      std::fill(sums, sums + width, 0.0);
      const std::size_t first = seg * cut.chunks_per_segment;
      const std::size_t last = std::min(first + cut.chunks_per_segment, cut.chunks);
      for (std::size_t c = first; c < last; ++c) {
        const std::size_t s0 = c * cut.chunk;
        const std::size_t n = std::min(cut.chunk, n_samples - s0);
        kernels_.gradients(w, x + s0 * layout_.inputs, y + s0 * layout_.outputs, n, scratch_[worker], sums);
      }
    });
    std::copy(segment_sums_.begin(), segment_sums_.begin() + width, sums_.begin());
    for (std::size_t seg = 1; seg < cut.segments; ++seg) {
      const double* part = segment_sums_.data() + seg * width;
      for (std::size_t k = 0; k < width; ++k) sums_[k] += part[k];
    }
  }

  ChunkWeights<T> weights() const { return view_of(layout_, params_.data()); }

  // Samples first .. first + n - 1 of this epoch's order, copied into the
  // batch arrays.
  void gather(std::size_t first, std::size_t n) {
    const std::size_t in = layout_.inputs, out = layout_.outputs;
    for (std::size_t s = 0; s < n; ++s) {
      const std::size_t from = order_[first + s];
      std::copy_n(in_.features() + from * in, in, batch_features_.data() + s * in);
      std::copy_n(in_.targets() + from * out, out, batch_targets_.data() + s * out);
    }
  }

  // One step of every parameter, from the mean gradient sums / n over a
  // batch of n samples.
  void update(const UpdateRule& rule, std::size_t batch) {
    const double n = static_cast<double>(batch);
    const StepScalars step = step_scalars(rule, ++steps_);
    const StateArrays<T> state{state_.data(), layout_.count()};
    for (std::size_t k = 0; k < layout_.count(); ++k) {
      update_parameter(rule, step, params_[k], static_cast<T>(sums_[k] / n), state, k);
    }
  }

  const Dataset& data_;
  const DataIn<T> in_;                    // data_ in T
  const Shape shape_;
  const ParameterLayout layout_;
  std::vector<T> params_;                 // (layout_.count())
  const Optimizer optimizer_;
  std::vector<T> state_;                  // (optimizer_.state_arrays(), layout_.count()), zeros at first
  std::uint64_t steps_ = 0;               // updates so far
  const std::size_t batch_;               // samples per step (the last of an epoch may have fewer)
  const bool shuffled_;                   // batches in a new order each epoch
  const std::uint32_t order_seed_;
  NumpyRandom order_rng_;                 // draws the orders, one permutation per epoch
  std::vector<std::uint32_t> order_;      // this epoch's (shuffled_)
  std::vector<T> batch_features_, batch_targets_;  // a gathered batch (shuffled_)
  // The most segments a sum over at most N samples takes: fewer samples may
  // take more than N's (65 chunks make 33 segments of 2, 64 make 64).
  const std::size_t most_segments_;
  std::shared_ptr<ThreadPool> pool_;
  ChunkKernels<T> kernels_;
  WorkerScratch<T> scratch_;
  std::vector<double> segment_sums_;      // (segments, layout_.sums())
  std::vector<double> sums_;              // (layout_.sums()): summed over samples, not yet / N
};

template <class T>
std::vector<double> predict_probabilities(const Parameters& params, const Dataset& data, ThreadPool& pool,
                                          const ChunkKernels<T>& kernels) {
  const std::vector<T> flat = flat_parameters<T>(params);
  const ChunkWeights<T> w = view_of(layout_of(params.shape), flat.data());
  const std::size_t n_samples = data.samples();
  const Segmentation cut(n_samples, params.shape);  // only its chunks: no sums to order here
  const std::size_t work = ChunkScratch<T>::size(w.inputs, w.hidden, w.outputs);
  WorkerScratch<T> scratch(workers_that_fit<T>(pool.size(), work, n_samples * w.outputs), work);
  std::vector<double> probabilities(n_samples * w.outputs);
  const DataIn<T> in(data);
  pool.parallel_for(cut.chunks, [&](std::size_t c, unsigned worker) {
    const std::size_t s0 = c * cut.chunk;
    const std::size_t n = std::min(cut.chunk, n_samples - s0);
    const ChunkScratch<T> arrays = ChunkScratch<T>::in(scratch[worker], w.inputs, w.hidden, w.outputs);
    kernels.forward(w, in.features() + s0 * w.inputs, n, arrays);
    kernels.probabilities(w, n, arrays, probabilities.data() + s0 * w.outputs);
  });
  return probabilities;
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(unsigned threads, const std::string& isa)
      : pool_(std::make_shared<ThreadPool>(threads)), f32_(chunk_kernels<float>(isa)), f64_(chunk_kernels<double>(isa)) {}

  std::string name() const override { return "cpu"; }

 protected:
  std::unique_ptr<TrainingSession> start_impl(const Dataset& data, const Parameters& params, Precision precision,
                                              const Optimizer& optimizer, const Batches& batches) const override {
    if (precision == Precision::f64) {
      return std::make_unique<CpuSession<double>>(data, params, optimizer, batches, pool_, f64_);
    }
    return std::make_unique<CpuSession<float>>(data, params, optimizer, batches, pool_, f32_);
  }

  std::vector<double> predict_impl(const Parameters& params, const Dataset& data,
                                   Precision precision) const override {
    if (precision == Precision::f64) return predict_probabilities<double>(params, data, *pool_, f64_);
    return predict_probabilities<float>(params, data, *pool_, f32_);
  }

 private:
  std::shared_ptr<ThreadPool> pool_;  // sessions share it (and keep it); one parallel_for at a time
  ChunkKernels<float> f32_;
  ChunkKernels<double> f64_;
};

}  // namespace
}  // namespace cpu

unsigned cpu_threads(unsigned requested) {
  if (requested == 0) return std::max(1u, std::thread::hardware_concurrency());
  return std::min<unsigned>(requested, cpu::kMaxSegments);
}

BackendEntry cpu_backend_entry() {
  return {"cpu", [] { return std::string(); },
          [](const BackendConfig& config) -> std::unique_ptr<Backend> {
            return std::make_unique<cpu::CpuBackend>(cpu_threads(config.threads), config.cpu_isa);
          }};
}

}  // namespace backprop
