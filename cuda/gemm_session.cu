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
// then the partial sums are finished in a fixed order (db1 and db2 into the
// flat gradient, beside the GEMMs' dW1 and dW2) and update_parameters steps
// every parameter. Memory: the data set plus O(chunk x hidden), whatever N.
#include <algorithm>

#include "activation_kernels.cuh"
#include "cublas_handle.cuh"
#include "cuda_session.cuh"
#include "gemm_plan.hpp"
#include "reduce_partials.cuh"
#include "update_parameters.cuh"

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
  using Base::in_, Base::hidden_, Base::out_, Base::samples_, Base::x_, Base::y_, Base::layout_;
  using Base::W1, Base::b1, Base::W2, Base::b2;

 public:
  GemmSession(const Dataset& data, const Parameters& params, const Optimizer& optimizer, bool allow_tf32)
      : Base(data, params, optimizer),
        chunk_(chunk_rows(samples_, params.shape.hidden)),
        workspace_(kCublasWorkspaceBytes),
        gradient_(layout_.count()),
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
      bias_sigmoid_forward(a1_.data(), b1(), rows, hidden_, s);
      gemm(cublas_.get(), g.output_forward);
      output_sigmoid(z2_.data(), b2(), rows, out_, p.data(), s);
      const auto part = p.download(static_cast<std::size_t>(rows) * out_, s);
      result.insert(result.end(), part.begin(), part.end());
    }
    return result;
  }

 protected:
  Gradients gradients_impl() override {
    enqueue_gradients();
    const cudaStream_t s = this->stream();
    // The weights' parts from the GEMMs; the biases' from their sums in
    // double, before they were rounded into the flat gradient.
    const std::vector<T> flat = gradient_.download(gradient_.size(), s);
    Gradients g;
    g.dW1.assign(flat.begin() + layout_.W1(), flat.begin() + layout_.b1());
    g.db1 = db1_.download(db1_.size(), s);
    g.dW2.assign(flat.begin() + layout_.W2(), flat.begin() + layout_.b2());
    g.db2 = db2_.download(db2_.size(), s);
    g.loss = loss_sum_.download(1, s)[0] * this->inv_samples();
    return g;
  }

  void enqueue_epoch(const UpdateRule& rule, double* loss_history, unsigned* epoch) override {
    enqueue_gradients();
    const UpdateArrays<T> a{this->params_.data(), gradient_.data(), layout_.count(), this->state(),
                            this->current_step(), loss_sum_.data(), loss_history, epoch};
    update_parameters(rule, a, this->inv_samples(), this->stream());
  }

  std::size_t working_bytes() const override {
    return workspace_.bytes() + gradient_.bytes() + db1_.bytes() + db2_.bytes() + loss_sum_.bytes() +
           a1_.bytes() + z2_.bytes() + dz1_.bytes() + partials_.bytes() + loss_partials_.bytes();
  }

 private:
  StepArrays<T> arrays() const {
    return {in_, hidden_, out_, x_.data(), W1(), W2(), gradient_.data() + layout_.W1(),
            gradient_.data() + layout_.W2(), a1_.data(), z2_.data(), dz1_.data()};
  }

  // Loss and mean gradients over the whole data set, chunk by chunk; the
  // last chunk's reductions round the bias sums into gradient_.
  void enqueue_gradients() {
    const cudaStream_t s = this->stream();
    const T inv_samples = T(1) / static_cast<T>(samples_);
    T* const db1_out = gradient_.data() + layout_.b1();
    T* const db2_out = gradient_.data() + layout_.b2();
    for (std::size_t first = 0; first < samples_; first += chunk_) {
      const bool first_chunk = first == 0;
      const bool last_chunk = first + chunk_ >= samples_;
      const std::size_t rows = std::min(chunk_, samples_ - first);
      const auto g = step_gemms(arrays(), first, static_cast<int>(rows), first_chunk);
      gemm(cublas_.get(), g.hidden_forward);
      bias_sigmoid_forward(a1_.data(), b1(), rows, hidden_, s);
      gemm(cublas_.get(), g.output_forward);
      bce_sigmoid_backward(z2_.data(), y_.data() + first * out_, b2(), rows, out_, inv_samples,
                           partials_.data(), loss_partials_.data(), s);
      reduce_partials(partials_.data(), row_blocks(rows), out_, db2_.data(), first_chunk,
                      last_chunk ? db2_out : nullptr, s);
      reduce_partials(loss_partials_.data(), row_blocks(rows) * column_tiles(out_), 1, loss_sum_.data(),
                      first_chunk, static_cast<T*>(nullptr), s);
      gemm(cublas_.get(), g.output_weights);
      gemm(cublas_.get(), g.hidden_backward);
      sigmoid_backward(dz1_.data(), a1_.data(), rows, hidden_, partials_.data(), s);
      reduce_partials(partials_.data(), row_blocks(rows), hidden_, db1_.data(), first_chunk,
                      last_chunk ? db1_out : nullptr, s);
      gemm(cublas_.get(), g.hidden_weights);
    }
  }

  std::size_t chunk_;
  DeviceBuffer<unsigned char> workspace_;  // cuBLAS's, declared before the handle so it outlives it
  CublasHandle cublas_;
  DeviceBuffer<T> gradient_;         // the mean gradient, flat: dW1 and dW2 from the GEMMs, db1 and db2 rounded
  DeviceBuffer<double> db1_, db2_, loss_sum_;  // summed over the chunks in double
  DeviceBuffer<T> a1_, z2_, dz1_;    // (chunk, hidden), (chunk, outputs), (chunk, hidden)
  DeviceBuffer<T> partials_;         // (row blocks, max(hidden, outputs))
  DeviceBuffer<T> loss_partials_;    // (row blocks, column tiles)
};

}  // namespace

template <class T>
std::unique_ptr<CudaSession<T>> make_gemm_session(const Dataset& data, const Parameters& params,
                                                  const Optimizer& optimizer, bool allow_tf32) {
  return std::make_unique<GemmSession<T>>(data, params, optimizer, allow_tf32);
}

template std::unique_ptr<CudaSession<float>> make_gemm_session<float>(const Dataset&, const Parameters&,
                                                                      const Optimizer&, bool);
template std::unique_ptr<CudaSession<double>> make_gemm_session<double>(const Dataset&, const Parameters&,
                                                                        const Optimizer&, bool);

}  // namespace backprop::cuda
