// The GEMM path, for any shape: cuBLAS for the five products of a step,
// fused kernels for everything element-wise. One epoch, for each chunk of
// samples (see gemm_plan.hpp for the products):
//   Z1 = X_c W1                 cuBLAS
//   A1 = σ(Z1 + b1)             bias_sigmoid_forward
//   Z2 = A1 W2                  cuBLAS
//   dZ2 = (σ(Z2 + b2) - y)/N    bce_sigmoid_backward (+ loss and db2 partial sums)
//   dW2 (+)= A1ᵀ dZ2            cuBLAS, beta = 1 after the first chunk
//   dA1 = dZ2 W2ᵀ               cuBLAS
//   dZ1 = dA1 ⊙ A1 ⊙ (1 - A1)   sigmoid_backward (+ db1 partial sums)
//   dW1 (+)= X_cᵀ dZ1           cuBLAS
// then the partial sums are finished in a fixed order and sgd_update steps
// every parameter. Memory: the data set plus O(chunk x hidden), whatever N.
#include <algorithm>

#include "activation_kernels.cuh"
#include "cublas_handle.cuh"
#include "cuda_session.cuh"
#include "gemm_plan.hpp"
#include "reduce_partials.cuh"
#include "sgd_update.cuh"

namespace backprop::cuda {
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
class GemmSession final : public CudaSession<T> {
  using Base = CudaSession<T>;
  using Base::in_, Base::hidden_, Base::out_, Base::samples_, Base::x_, Base::y_, Base::W1_, Base::b1_,
      Base::W2_, Base::b2_;

 public:
  GemmSession(const Dataset& data, const Parameters& params, bool allow_tf32)
      : Base(data, params),
        chunk_(chunk_rows(samples_, params.shape.hidden)),
        workspace_(kCublasWorkspaceBytes),
        dW1_(params.W1.size()), dW2_(params.W2.size()),
        db1_(params.b1.size()), db2_(params.b2.size()), loss_sum_(1),
        a1_(chunk_ * hidden_), z2_(chunk_ * out_), dz1_(chunk_ * hidden_),
        partials_(row_blocks(chunk_) * std::max(hidden_, out_)),
        loss_partials_(row_blocks(chunk_) * column_tiles(out_)) {
    BACKPROP_CUBLAS_CHECK(cublasSetStream(cublas_.get(), this->stream()));
    BACKPROP_CUBLAS_CHECK(cublasSetWorkspace(cublas_.get(), workspace_.data(), kCublasWorkspaceBytes));
    BACKPROP_CUBLAS_CHECK(
        cublasSetMathMode(cublas_.get(), allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  }

  std::vector<double> probabilities() override {
    const cudaStream_t s = this->stream();
    std::vector<double> result;
    result.reserve(samples_ * out_);
    DeviceBuffer<T> p(chunk_ * out_);
    for (std::size_t first = 0; first < samples_; first += chunk_) {
      const int rows = static_cast<int>(std::min(chunk_, samples_ - first));
      const auto g = step_gemms(arrays(), first, rows, true);
      gemm(cublas_.get(), g.hidden_forward);
      bias_sigmoid_forward(a1_.data(), b1_.data(), rows, hidden_, s);
      gemm(cublas_.get(), g.output_forward);
      output_sigmoid(z2_.data(), b2_.data(), rows, out_, p.data(), s);
      const auto part = p.download(static_cast<std::size_t>(rows) * out_, s);
      result.insert(result.end(), part.begin(), part.end());
    }
    return result;
  }

 protected:
  Gradients gradients_impl() override {
    enqueue_gradients();
    const cudaStream_t s = this->stream();
    Gradients g;
    g.dW1 = download_as_double(dW1_, s);
    g.db1 = db1_.download(db1_.size(), s);
    g.dW2 = download_as_double(dW2_, s);
    g.db2 = db2_.download(db2_.size(), s);
    g.loss = loss_sum_.download(1, s)[0] * this->inv_samples();
    return g;
  }

  void enqueue_epoch(T rate, double* loss_history, unsigned* epoch) override {
    enqueue_gradients();
    const SgdArrays<T> a{in_, hidden_, out_, W1_.data(), b1_.data(), W2_.data(), b2_.data(),
                         dW1_.data(), dW2_.data(), db1_.data(), db2_.data(), loss_sum_.data(),
                         loss_history, epoch};
    sgd_update(a, rate, this->inv_samples(), this->stream());
  }

  std::size_t working_bytes() const override {
    return workspace_.bytes() + dW1_.bytes() + dW2_.bytes() + db1_.bytes() + db2_.bytes() + loss_sum_.bytes() +
           a1_.bytes() + z2_.bytes() + dz1_.bytes() + partials_.bytes() + loss_partials_.bytes();
  }

 private:
  StepArrays<T> arrays() const {
    return {in_, hidden_, out_, x_.data(), W1_.data(), W2_.data(), dW1_.data(), dW2_.data(),
            a1_.data(), z2_.data(), dz1_.data()};
  }

  // Loss and mean gradients over the whole data set, chunk by chunk.
  void enqueue_gradients() {
    const cudaStream_t s = this->stream();
    const T inv_samples = T(1) / static_cast<T>(samples_);
    for (std::size_t first = 0; first < samples_; first += chunk_) {
      const bool first_chunk = first == 0;
      const std::size_t rows = std::min(chunk_, samples_ - first);
      const auto g = step_gemms(arrays(), first, static_cast<int>(rows), first_chunk);
      gemm(cublas_.get(), g.hidden_forward);
      bias_sigmoid_forward(a1_.data(), b1_.data(), rows, hidden_, s);
      gemm(cublas_.get(), g.output_forward);
      bce_sigmoid_backward(z2_.data(), y_.data() + first * out_, b2_.data(), rows, out_, inv_samples,
                           partials_.data(), loss_partials_.data(), s);
      reduce_partials(partials_.data(), row_blocks(rows), out_, db2_.data(), first_chunk, s);
      reduce_partials(loss_partials_.data(), row_blocks(rows) * column_tiles(out_), 1, loss_sum_.data(),
                      first_chunk, s);
      gemm(cublas_.get(), g.output_weights);
      gemm(cublas_.get(), g.hidden_backward);
      sigmoid_backward(dz1_.data(), a1_.data(), rows, hidden_, partials_.data(), s);
      reduce_partials(partials_.data(), row_blocks(rows), hidden_, db1_.data(), first_chunk, s);
      gemm(cublas_.get(), g.hidden_weights);
    }
  }

  std::size_t chunk_;
  DeviceBuffer<unsigned char> workspace_;  // cuBLAS's, declared before the handle so it outlives it
  CublasHandle cublas_;
  DeviceBuffer<T> dW1_, dW2_;        // from the GEMMs
  DeviceBuffer<double> db1_, db2_, loss_sum_;
  DeviceBuffer<T> a1_, z2_, dz1_;    // (chunk, hidden), (chunk, outputs), (chunk, hidden)
  DeviceBuffer<T> partials_;         // (row blocks, max(hidden, outputs))
  DeviceBuffer<T> loss_partials_;    // (row blocks, column tiles)
};

}  // namespace

template <class T>
std::unique_ptr<CudaSession<T>> make_gemm_session(const Dataset& data, const Parameters& params, bool allow_tf32) {
  return std::make_unique<GemmSession<T>>(data, params, allow_tf32);
}

template std::unique_ptr<CudaSession<float>> make_gemm_session<float>(const Dataset&, const Parameters&, bool);
template std::unique_ptr<CudaSession<double>> make_gemm_session<double>(const Dataset&, const Parameters&, bool);

}  // namespace backprop::cuda
