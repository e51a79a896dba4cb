// The CUDA backend: cuBLAS GEMMs for the five products of a step, fused
// kernels for everything element-wise, one CUDA graph per epoch.
//
// One epoch, for each chunk of samples (see gemm_plan.hpp for the products):
//   Z1 = X_c W1                 cuBLAS
//   A1 = σ(Z1 + b1)             bias_sigmoid_forward
//   Z2 = A1 W2                  cuBLAS
//   dZ2 = (σ(Z2 + b2) - y)/N    bce_sigmoid_backward (+ loss and db2 partial sums)
//   dW2 (+)= A1ᵀ dZ2            cuBLAS, beta = 1 after the first chunk
//   dA1 = dZ2 W2ᵀ               cuBLAS
//   dZ1 = dA1 ⊙ A1 ⊙ (1 - A1)   sigmoid_backward (+ db1 partial sums)
//   dW1 (+)= X_cᵀ dZ1           cuBLAS
// then the partial sums are finished in a fixed order and sgd_update steps
// every parameter and writes the epoch's loss into a device array, which is
// copied back once per run_epochs call.
//
// A narrow network (one output, at most 4 inputs and 8 hidden units) skips
// the GEMMs: narrow_step_partials runs the whole forward and backward pass
// per sample in registers and leaves per-thread sums, which
// reduce_partial_columns finishes before the same sgd_update.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "activation_kernels.cuh"
#include "backend_entry.hpp"
#include "backend_module.hpp"
#include "backprop/error.hpp"
#include "device_buffer.cuh"
#include "gemm_plan.hpp"
#include "narrow_step.cuh"
#include "reduce_partials.cuh"
#include "sgd_update.cuh"

namespace backprop {
namespace cuda {
namespace {

// Chunk rows x hidden stays under this many values per working array.
constexpr std::size_t kChunkValues = std::size_t{1} << 24;
constexpr std::size_t kMaxChunkRows = std::size_t{1} << 20;
constexpr std::size_t kCublasWorkspaceBytes = std::size_t{32} << 20;

// Samples per chunk: a function of the shape and N only, never of the GPU,
// so the summation order (and every bit of the result) is fixed.
std::size_t chunk_rows(std::size_t samples, std::size_t hidden) {
  std::size_t rows = std::clamp(kChunkValues / hidden, std::size_t{kRowsPerBlock}, kMaxChunkRows);
  rows -= rows % kRowsPerBlock;
  return std::min(rows, samples);
}

cublasOperation_t to_cublas(Transpose t) { return t == Transpose::yes ? CUBLAS_OP_T : CUBLAS_OP_N; }

void gemm(cublasHandle_t handle, const ColumnMajorGemm<float>& g) {
  BACKPROP_CUBLAS_CHECK(cublasSgemm(handle, to_cublas(g.transa), to_cublas(g.transb), g.m, g.n, g.k, &g.alpha,
                                    g.A, g.lda, g.B, g.ldb, &g.beta, g.C, g.ldc));
}
void gemm(cublasHandle_t handle, const ColumnMajorGemm<double>& g) {
  BACKPROP_CUBLAS_CHECK(cublasDgemm(handle, to_cublas(g.transa), to_cublas(g.transb), g.m, g.n, g.k, &g.alpha,
                                    g.A, g.lda, g.B, g.ldb, &g.beta, g.C, g.ldc));
}

template <class T>
std::vector<T> narrow(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}
template <class T>
std::vector<double> widen_host(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

template <class T>
class CudaSession final : public TrainingSession {
 public:
  CudaSession(const Dataset& data, const Parameters& params, const BackendConfig& config)
      : in_(static_cast<int>(params.shape.inputs)),
        hidden_(static_cast<int>(params.shape.hidden)),
        out_(static_cast<int>(params.shape.outputs)),
        samples_(data.samples()),
        chunk_(chunk_rows(samples_, params.shape.hidden)),
        narrow_(config.fuse_narrow && fits_narrow_step(params.shape.inputs, params.shape.hidden, params.shape.outputs)),
        workspace_(narrow_ ? 0 : kCublasWorkspaceBytes),
        x_(data.features.size()),
        y_(data.targets.size()),
        W1_(params.W1.size()), b1_(params.b1.size()), W2_(params.W2.size()), b2_(params.b2.size()),
        // The GEMM path's arrays; a narrow session needs none of them.
        dW1_(narrow_ ? 0 : params.W1.size()), dW2_(narrow_ ? 0 : params.W2.size()),
        db1_(narrow_ ? 0 : params.b1.size()), db2_(narrow_ ? 0 : params.b2.size()), loss_sum_(narrow_ ? 0 : 1),
        a1_(narrow_ ? 0 : chunk_ * hidden_), z2_(narrow_ ? 0 : chunk_ * out_), dz1_(narrow_ ? 0 : chunk_ * hidden_),
        partials_(narrow_ ? 0 : row_blocks(chunk_) * std::max(hidden_, out_)),
        loss_partials_(narrow_ ? 0 : row_blocks(chunk_) * column_tiles(out_)),
        epoch_(1),
        narrow_partials_(narrow_ ? narrow_sums(in_, hidden_).count * narrow_threads(samples_) : 0),
        narrow_sums_(narrow_ ? narrow_sums(in_, hidden_).count : 0) {
    if (!narrow_) {  // the narrow step never calls cuBLAS, and so does not start it
      cublas_.emplace();
      BACKPROP_CUBLAS_CHECK(cublasSetStream(cublas(), stream_.get()));
      BACKPROP_CUBLAS_CHECK(cublasSetWorkspace(cublas(), workspace_.data(), kCublasWorkspaceBytes));
      BACKPROP_CUBLAS_CHECK(
          cublasSetMathMode(cublas(), config.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    }
    upload_features(data.features);
    y_.upload(data.targets, stream_.get());
    W1_.upload(narrow<T>(params.W1), stream_.get());
    b1_.upload(narrow<T>(params.b1), stream_.get());
    W2_.upload(narrow<T>(params.W2), stream_.get());
    b2_.upload(narrow<T>(params.b2), stream_.get());
    stream_.synchronize();
  }

  // Probabilities for the session's data set at the current parameters.
  std::vector<double> probabilities() {
    std::vector<double> result;
    result.reserve(samples_ * out_);
    DeviceBuffer<T> p(chunk_ * out_);
    for (std::size_t first = 0; first < samples_; first += chunk_) {
      const int rows = static_cast<int>(std::min(chunk_, samples_ - first));
      if (narrow_) {
        NarrowStep<T> step = narrow_step();
        step.x += first * in_;
        step.samples = rows;
        narrow_forward(step, p.data(), stream_.get());
      } else {
        const auto g = step_gemms(arrays(), first, rows, true);
        gemm(cublas(), g.hidden_forward);
        bias_sigmoid_forward(a1_.data(), b1_.data(), rows, hidden_, stream_.get());
        gemm(cublas(), g.output_forward);
        output_sigmoid(z2_.data(), b2_.data(), rows, out_, p.data(), stream_.get());
      }
      const auto part = p.download(static_cast<std::size_t>(rows) * out_, stream_.get());
      result.insert(result.end(), part.begin(), part.end());
    }
    return result;
  }

 protected:
  std::vector<double> run_epochs_impl(std::size_t count, double lr) override {
    const T rate = static_cast<T>(lr);
    if (history_.size() < count || !epoch_graph_.ready() || rate != graph_rate_) {
      if (history_.size() < count) history_ = DeviceBuffer<double>(count);
      epoch_graph_.capture(stream_.get(), [&] { enqueue_epoch(rate); });
      graph_rate_ = rate;
    }
    BACKPROP_CUDA_CHECK(cudaMemsetAsync(epoch_.data(), 0, sizeof(unsigned), stream_.get()));
    started_.record(stream_.get());
    for (std::size_t e = 0; e < count; ++e) epoch_graph_.launch(stream_.get());
    finished_.record(stream_.get());
    auto losses = history_.download(count, stream_.get());
    last_run_seconds_ = Event::seconds_between(started_, finished_);
    return losses;
  }

  Parameters parameters_impl() const override {
    Parameters p;
    p.shape = {static_cast<std::size_t>(in_), static_cast<std::size_t>(hidden_), static_cast<std::size_t>(out_)};
    p.W1 = widen_host(W1_.download(W1_.size(), stream_.get()));
    p.b1 = widen_host(b1_.download(b1_.size(), stream_.get()));
    p.W2 = widen_host(W2_.download(W2_.size(), stream_.get()));
    p.b2 = widen_host(b2_.download(b2_.size(), stream_.get()));
    return p;
  }

  std::size_t memory_bytes_impl() const override {
    return workspace_.bytes() + x_.bytes() + y_.bytes() + W1_.bytes() + b1_.bytes() + W2_.bytes() + b2_.bytes() +
           dW1_.bytes() + dW2_.bytes() + db1_.bytes() + db2_.bytes() + loss_sum_.bytes() + a1_.bytes() +
           z2_.bytes() + dz1_.bytes() + partials_.bytes() + loss_partials_.bytes() + epoch_.bytes() +
           history_.bytes() + narrow_partials_.bytes() + narrow_sums_.bytes();
  }

  Gradients gradients_impl() override {
    if (narrow_) return narrow_gradients();
    enqueue_gradients();
    Gradients g;
    g.dW1 = widen_host(dW1_.download(dW1_.size(), stream_.get()));
    g.db1 = db1_.download(db1_.size(), stream_.get());
    g.dW2 = widen_host(dW2_.download(dW2_.size(), stream_.get()));
    g.db2 = db2_.download(db2_.size(), stream_.get());
    g.loss = loss_sum_.download(1, stream_.get())[0] / static_cast<double>(samples_);
    return g;
  }

 private:
  void upload_features(const std::vector<float>& features) {
    if constexpr (std::is_same_v<T, float>) {
      x_.upload(features, stream_.get());
    } else {
      DeviceBuffer<float> staging(features.size());
      staging.upload(features, stream_.get());
      widen(staging.data(), x_.data(), features.size(), stream_.get());
      stream_.synchronize();  // staging dies here
    }
  }

  cublasHandle_t cublas() const { return cublas_->get(); }

  StepArrays<T> arrays() const {
    return {in_, hidden_, out_, x_.data(), W1_.data(), W2_.data(), dW1_.data(), dW2_.data(),
            a1_.data(), z2_.data(), dz1_.data()};
  }

  // Loss and mean gradients over the whole data set, chunk by chunk.
  void enqueue_gradients() {
    const cudaStream_t s = stream_.get();
    const T inv_samples = T(1) / static_cast<T>(samples_);
    for (std::size_t first = 0; first < samples_; first += chunk_) {
      const bool first_chunk = first == 0;
      const std::size_t rows = std::min(chunk_, samples_ - first);
      const auto g = step_gemms(arrays(), first, static_cast<int>(rows), first_chunk);
      gemm(cublas(), g.hidden_forward);
      bias_sigmoid_forward(a1_.data(), b1_.data(), rows, hidden_, s);
      gemm(cublas(), g.output_forward);
      bce_sigmoid_backward(z2_.data(), y_.data() + first * out_, b2_.data(), rows, out_, inv_samples,
                           partials_.data(), loss_partials_.data(), s);
      reduce_partials(partials_.data(), row_blocks(rows), out_, db2_.data(), first_chunk, s);
      reduce_partials(loss_partials_.data(), row_blocks(rows) * column_tiles(out_), 1, loss_sum_.data(),
                      first_chunk, s);
      gemm(cublas(), g.output_weights);
      gemm(cublas(), g.hidden_backward);
      sigmoid_backward(dz1_.data(), a1_.data(), rows, hidden_, partials_.data(), s);
      reduce_partials(partials_.data(), row_blocks(rows), hidden_, db1_.data(), first_chunk, s);
      gemm(cublas(), g.hidden_weights);
    }
  }

  // The narrow step's loss and mean gradients, summed into narrow_sums_.
  NarrowStep<T> narrow_step() const {
    return {in_, hidden_, x_.data(), y_.data(), samples_, W1_.data(), b1_.data(), W2_.data(), b2_.data(),
            T(1) / static_cast<T>(samples_), narrow_partials_.data()};
  }

  void enqueue_narrow_gradients() {
    narrow_step_partials(narrow_step(), stream_.get());
    reduce_partial_columns(narrow_partials_.data(), narrow_threads(samples_),
                           static_cast<int>(narrow_sums(in_, hidden_).count), narrow_sums_.data(), stream_.get());
  }

  Gradients narrow_gradients() {
    enqueue_narrow_gradients();
    const NarrowSums at = narrow_sums(in_, hidden_);
    const std::vector<double> sums = narrow_sums_.download(at.count, stream_.get());
    auto slice = [&](std::size_t from, std::size_t to) { return std::vector<double>(&sums[from], &sums[to]); };
    Gradients g;
    g.dW1 = slice(at.dW1, at.db1);
    g.db1 = slice(at.db1, at.dW2);
    g.dW2 = slice(at.dW2, at.db2);
    g.db2 = slice(at.db2, at.loss);
    g.loss = sums[at.loss] / static_cast<double>(samples_);
    return g;
  }

  void enqueue_epoch(T rate) {
    const double inv_samples = 1.0 / static_cast<double>(samples_);
    if (narrow_) {
      enqueue_narrow_gradients();
      const NarrowSums at = narrow_sums(in_, hidden_);
      const double* sums = narrow_sums_.data();
      const SgdArrays<T, double> a{in_, hidden_, out_, W1_.data(), b1_.data(), W2_.data(), b2_.data(),
                                   sums + at.dW1, sums + at.dW2, sums + at.db1, sums + at.db2, sums + at.loss,
                                   history_.data(), epoch_.data()};
      sgd_update(a, rate, inv_samples, stream_.get());
      return;
    }
    enqueue_gradients();
    const SgdArrays<T> a{in_, hidden_, out_, W1_.data(), b1_.data(), W2_.data(), b2_.data(),
                         dW1_.data(), dW2_.data(), db1_.data(), db2_.data(), loss_sum_.data(),
                         history_.data(), epoch_.data()};
    sgd_update(a, rate, inv_samples, stream_.get());
  }

  int in_, hidden_, out_;
  std::size_t samples_, chunk_;
  bool narrow_;                      // trained by the fused narrow step, not the GEMMs
  Stream stream_;
  DeviceBuffer<unsigned char> workspace_;  // cuBLAS's, declared before the handle so it outlives it
  std::optional<CublasHandle> cublas_;  // GEMM path only
  DeviceBuffer<T> x_;                // (N, inputs)
  DeviceBuffer<float> y_;            // (N, outputs)
  DeviceBuffer<T> W1_, b1_, W2_, b2_;
  DeviceBuffer<T> dW1_, dW2_;        // from the GEMMs
  DeviceBuffer<double> db1_, db2_, loss_sum_;
  DeviceBuffer<T> a1_, z2_, dz1_;    // (chunk, hidden), (chunk, outputs), (chunk, hidden)
  DeviceBuffer<T> partials_;         // (row blocks, max(hidden, outputs))
  DeviceBuffer<T> loss_partials_;    // (row blocks, column tiles)
  DeviceBuffer<unsigned> epoch_;     // where sgd_update writes the next loss
  DeviceBuffer<double> history_;     // losses of the current run_epochs call
  CapturedGraph epoch_graph_;
  Event started_, finished_;         // bracket the epochs of a run_epochs call
  T graph_rate_ = 0;
  DeviceBuffer<T> narrow_partials_;     // (sums, narrow threads), narrow only
  DeviceBuffer<double> narrow_sums_;    // NarrowSums layout, narrow only
};

__global__ void probe_kernel() {}

std::string unusable_reason() {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return std::string("no usable CUDA device (") + cudaGetErrorName(status) + ": " +
           cudaGetErrorString(status) + ")";
  }
  if (count == 0) return "no CUDA device found";
  cudaFuncAttributes attributes;
  status = cudaFuncGetAttributes(&attributes, probe_kernel);
  if (status != cudaSuccess) {
    cudaGetLastError();
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    return "this build has no kernel image for " + std::string(prop.name) + " (sm_" +
           std::to_string(prop.major) + std::to_string(prop.minor) +
           "); rebuild with -DCMAKE_CUDA_ARCHITECTURES=" + std::to_string(prop.major) +
           std::to_string(prop.minor) + " (" + cudaGetErrorString(status) + ")";
  }
  return {};
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const BackendConfig& config) : config_(config) {}
  std::string name() const override { return "cuda"; }

 protected:
  std::unique_ptr<TrainingSession> start_impl(const Dataset& data, const Parameters& params,
                                              Precision precision) const override {
    if (precision == Precision::f64) return std::make_unique<CudaSession<double>>(data, params, config_);
    return std::make_unique<CudaSession<float>>(data, params, config_);
  }
  std::vector<double> predict_impl(const Parameters& params, const Dataset& data,
                                   Precision precision) const override {
    if (precision == Precision::f64) return CudaSession<double>(data, params, config_).probabilities();
    return CudaSession<float>(data, params, config_).probabilities();
  }

 private:
  BackendConfig config_;
};

}  // namespace
}  // namespace cuda

BackendEntry cuda_backend_entry() {
  return {"cuda", cuda::unusable_reason, [](const BackendConfig& config) -> std::unique_ptr<Backend> {
            return std::make_unique<cuda::CudaBackend>(config);
          }};
}

}  // namespace backprop

// This file is the entry of libbackprop-cuda.so, which the library loads on
// first use of "cuda" (core/backend_module.cpp).
BACKPROP_MODULE_EXPORTS(backprop::cuda_backend_entry)
