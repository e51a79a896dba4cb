// The CPU reference backend: plain C++, no BLAS, float32 or float64.
//
// One epoch: the samples are cut into chunks of chunk_samples(shape), and
// the chunks into at most kMaxSegments contiguous segments. Threads take
// whole segments; each segment sums its chunks in order, and the segment sums
// are added in segment order. Both cuts depend on N and the shape alone, so
// the losses are bit-identical for any thread count.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <thread>

#include "backend_entry.hpp"
#include "chunk_kernels.hpp"
#include "host_memory.hpp"
#include "thread_pool.hpp"

namespace backprop {
namespace cpu {
namespace {

constexpr std::size_t kMaxSegments = 64;  // enough to balance cores, few enough to sum cheaply
// The segments' sums (a gradient each) take at most this, or one segment's
// if more: wide networks get fewer segments.
constexpr std::size_t kMaxSegmentSumBytes = std::size_t{256} << 20;

std::size_t most_segments(const Shape& shape) {
  const std::size_t gradient_bytes = GradientLayout{shape.inputs, shape.hidden, shape.outputs}.size() * sizeof(double);
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

// Parameters in the working precision.
template <class T>
struct Weights {
  std::size_t inputs, hidden, outputs;
  std::vector<T> W1, b1, W2, b2;

  explicit Weights(const Parameters& p)
      : inputs(p.shape.inputs), hidden(p.shape.hidden), outputs(p.shape.outputs),
        W1(p.W1.begin(), p.W1.end()), b1(p.b1.begin(), p.b1.end()),
        W2(p.W2.begin(), p.W2.end()), b2(p.b2.begin(), p.b2.end()) {}

  ChunkWeights<T> view() const { return {inputs, hidden, outputs, W1.data(), b1.data(), W2.data(), b2.data()}; }
};

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
  CpuSession(const Dataset& data, const Parameters& params, std::shared_ptr<ThreadPool> pool,
             const ChunkKernels<T>& kernels)
      : data_(data),
        weights_(params),
        layout_{params.shape.inputs, params.shape.hidden, params.shape.outputs},
        cut_(data.samples(), params.shape),
        pool_(std::move(pool)),
        kernels_(kernels),
        scratch_(workers_that_fit<T>(pool_->size(), kernels.gradients_work_values(weights_.view()),
                                     (cut_.segments + 1) * layout_.size()),
                 kernels.gradients_work_values(weights_.view())),
        segment_sums_(cut_.segments * layout_.size()),
        sums_(layout_.size()) {}

 protected:
  std::vector<double> run_epochs_impl(std::size_t count, double lr) override {
    std::vector<double> losses(count);
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t e = 0; e < count; ++e) {
      sum_gradients();
      losses[e] = sums_[layout_.loss()] / static_cast<double>(data_.samples());
      sgd_update(lr);
    }
    last_run_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return losses;
  }

  Parameters parameters_impl() const override {
    auto widen = [](const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); };
    Parameters p;
    p.shape = {layout_.inputs, layout_.hidden, layout_.outputs};
    p.W1 = widen(weights_.W1);
    p.b1 = widen(weights_.b1);
    p.W2 = widen(weights_.W2);
    p.b2 = widen(weights_.b2);
    return p;
  }

  std::size_t memory_bytes_impl() const override {
    return scratch_.bytes() + (segment_sums_.size() + sums_.size()) * sizeof(double) +
           (weights_.W1.size() + weights_.b1.size() + weights_.W2.size() + weights_.b2.size()) * sizeof(T);
  }

  bool parameters_finite_impl() const override {
    for (const std::vector<T>* values : {&weights_.W1, &weights_.b1, &weights_.W2, &weights_.b2}) {
      for (const T v : *values) {
        if (!std::isfinite(v)) return false;
      }
    }
    return true;
  }

  Gradients gradients_impl() override {
    sum_gradients();
    const double n = static_cast<double>(data_.samples());
    auto mean = [&](std::size_t offset, std::size_t count) {
      std::vector<double> v(sums_.begin() + offset, sums_.begin() + offset + count);
      for (double& g : v) g /= n;
      return v;
    };
    const auto& L = layout_;
    return {sums_[L.loss()] / n, mean(L.dW1(), L.inputs * L.hidden), mean(L.db1(), L.hidden),
            mean(L.dW2(), L.hidden * L.outputs), mean(L.db2(), L.outputs)};
  }

 private:
  // sums_ = loss and gradients summed over every sample (not yet / N).
  void sum_gradients() {
    const std::size_t n_samples = data_.samples();
    const std::size_t width = layout_.size();
    const ChunkWeights<T> weights = weights_.view();
    pool_->parallel_for(cut_.segments, [&](std::size_t seg, unsigned worker) {
      double* sums = segment_sums_.data() + seg * width;
      std::fill(sums, sums + width, 0.0);
      const std::size_t first = seg * cut_.chunks_per_segment;
      const std::size_t last = std::min(first + cut_.chunks_per_segment, cut_.chunks);
      for (std::size_t c = first; c < last; ++c) {
        const std::size_t s0 = c * cut_.chunk;
        const std::size_t n = std::min(cut_.chunk, n_samples - s0);
        kernels_.gradients(weights, data_.features.data() + s0 * layout_.inputs,
                           data_.targets.data() + s0 * layout_.outputs, n, scratch_[worker], sums);
      }
    });
    std::copy(segment_sums_.begin(), segment_sums_.begin() + width, sums_.begin());
    for (std::size_t seg = 1; seg < cut_.segments; ++seg) {
      const double* part = segment_sums_.data() + seg * width;
      for (std::size_t k = 0; k < width; ++k) sums_[k] += part[k];
    }
  }

  // θ -= lr · ∂loss/∂θ, with ∂loss/∂θ = sums / N.
  void sgd_update(double lr) {
    const double n = static_cast<double>(data_.samples());
    auto step = [&](std::vector<T>& theta, std::size_t offset) {
      const T rate = static_cast<T>(lr);
      for (std::size_t k = 0; k < theta.size(); ++k) {
        theta[k] -= rate * static_cast<T>(sums_[offset + k] / n);
      }
    };
    step(weights_.W2, layout_.dW2());
    step(weights_.b2, layout_.db2());
    step(weights_.W1, layout_.dW1());
    step(weights_.b1, layout_.db1());
  }

  const Dataset& data_;
  Weights<T> weights_;
  GradientLayout layout_;
  Segmentation cut_;
  std::shared_ptr<ThreadPool> pool_;
  ChunkKernels<T> kernels_;
  WorkerScratch<T> scratch_;
  std::vector<double> segment_sums_;      // (segments, layout size)
  std::vector<double> sums_;              // (layout size)
};

template <class T>
std::vector<double> predict_probabilities(const Parameters& params, const Dataset& data, ThreadPool& pool,
                                          const ChunkKernels<T>& kernels) {
  const Weights<T> weights(params);
  const ChunkWeights<T> w = weights.view();
  const std::size_t n_samples = data.samples();
  const Segmentation cut(n_samples, params.shape);  // only its chunks: no sums to order here
  const std::size_t work = ChunkScratch<T>::size(w.inputs, w.hidden, w.outputs);
  WorkerScratch<T> scratch(workers_that_fit<T>(pool.size(), work, n_samples * w.outputs), work);
  std::vector<double> probabilities(n_samples * w.outputs);
  pool.parallel_for(cut.chunks, [&](std::size_t c, unsigned worker) {
    const std::size_t s0 = c * cut.chunk;
    const std::size_t n = std::min(cut.chunk, n_samples - s0);
    const ChunkScratch<T> arrays = ChunkScratch<T>::in(scratch[worker], w.inputs, w.hidden, w.outputs);
    kernels.forward(w, data.features.data() + s0 * w.inputs, n, arrays);
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
  std::unique_ptr<TrainingSession> start_impl(const Dataset& data, const Parameters& params,
                                              Precision precision) const override {
    if (precision == Precision::f64) return std::make_unique<CpuSession<double>>(data, params, pool_, f64_);
    return std::make_unique<CpuSession<float>>(data, params, pool_, f32_);
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
