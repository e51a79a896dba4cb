// The narrow path: one output, at most 4 inputs and 1024 hidden units (the
// article's 2-4-1 among them). One epoch, two kernels:
//   narrow_step_partials   forward and backward per sample, in registers;
//                          per-block sums of every gradient and the loss
//   finish_narrow_step     those sums added over the blocks in a fixed order
//                          in double; θ -= lr · dθ, and the loss into its array
// Nothing per sample is written: a step reads the data set once. The sums
// take the same memory whatever N (narrow_step.cuh), and cuBLAS is never
// started. A data set of at most one block's samples (the article's four)
// runs all the epochs of a run_epochs call in one launch instead, both
// kernels' work in one block, epoch after epoch: the same bits, without a
// launch or graph node per kernel and epoch.
#include "cuda_session.cuh"
#include "narrow_step.cuh"

namespace backprop::cuda {
namespace {

// Chunk of samples per download when predicting.
constexpr std::size_t kPredictRows = std::size_t{1} << 20;

template <class T>
class NarrowSession final : public CudaSession<T> {
  using Base = CudaSession<T>;
  using Base::in_, Base::hidden_, Base::out_, Base::samples_, Base::x_, Base::y_, Base::W1_, Base::b1_,
      Base::W2_, Base::b2_;

 public:
  NarrowSession(const Dataset& data, const Parameters& params, bool epochs_in_one_launch)
      : Base(data, params),
        one_launch_(epochs_in_one_launch && fits_one_block(samples_, hidden_)),
        at_(narrow_sums(in_, hidden_)),
        partials_(at_.count * narrow_blocks(samples_, hidden_)),
        sums_(at_.count) {}

  std::vector<double> probabilities() override {
    std::vector<double> result;
    result.reserve(samples_);
    const std::size_t rows = std::min(kPredictRows, samples_);
    DeviceBuffer<T> p(rows);
    for (std::size_t first = 0; first < samples_; first += rows) {
      NarrowStep<T> chunk = step();
      chunk.x += first * in_;
      chunk.samples = std::min(rows, samples_ - first);
      narrow_forward(chunk, p.data(), this->stream());
      const auto part = p.download(chunk.samples, this->stream());
      result.insert(result.end(), part.begin(), part.end());
    }
    return result;
  }

 protected:
  Gradients gradients_impl() override {
    narrow_step_partials(step(), this->stream());
    finish_narrow_step<T>(partials_.data(), narrow_blocks(samples_, hidden_), in_, hidden_, sums_.data(), nullptr,
                          this->stream());
    const std::vector<double> sums = sums_.download(at_.count, this->stream());
    auto slice = [&](std::size_t from, std::size_t to) { return std::vector<double>(&sums[from], &sums[to]); };
    Gradients g;
    g.dW1 = slice(at_.dW1, at_.db1);
    g.db1 = slice(at_.db1, at_.dW2);
    g.dW2 = slice(at_.dW2, at_.db2);
    g.db2 = slice(at_.db2, at_.loss);
    g.loss = sums[at_.loss] * this->inv_samples();
    return g;
  }

  void enqueue_epoch(T rate, double* loss_history, unsigned* epoch) override {
    narrow_step_partials(step(), this->stream());
    const NarrowUpdate<T> u = update(rate, loss_history, epoch);
    finish_narrow_step(partials_.data(), narrow_blocks(samples_, hidden_), in_, hidden_, nullptr, &u, this->stream());
  }

  bool epochs_fit_one_launch() const override { return one_launch_; }

  void enqueue_epochs_in_one_launch(std::size_t count, T rate, double* loss_history, unsigned* epoch) override {
    narrow_epochs_in_one_block(step(), update(rate, loss_history, epoch), count, this->stream());
  }

  std::size_t working_bytes() const override { return partials_.bytes() + sums_.bytes(); }

 private:
  NarrowStep<T> step() const {
    return {in_, hidden_, x_.data(), y_.data(), samples_, W1_.data(), b1_.data(), W2_.data(), b2_.data(),
            T(1) / static_cast<T>(samples_), partials_.data(), narrow_exp2(samples_, hidden_)};
  }

  NarrowUpdate<T> update(T rate, double* loss_history, unsigned* epoch) const {
    return {W1_.data(), b1_.data(), W2_.data(), b2_.data(), rate, this->inv_samples(),
            loss_history, epoch};
  }

  const bool one_launch_;        // epochs in one launch (a data set of one block)
  NarrowSums at_;                // where each sum sits
  DeviceBuffer<T> partials_;     // (sums, narrow blocks)
  DeviceBuffer<double> sums_;    // (sums), for gradients()
};

}  // namespace

template <class T>
std::unique_ptr<CudaSession<T>> make_narrow_session(const Dataset& data, const Parameters& params,
                                                    bool epochs_in_one_launch) {
  return std::make_unique<NarrowSession<T>>(data, params, epochs_in_one_launch);
}

template std::unique_ptr<CudaSession<float>> make_narrow_session<float>(const Dataset&, const Parameters&, bool);
template std::unique_ptr<CudaSession<double>> make_narrow_session<double>(const Dataset&, const Parameters&, bool);

}  // namespace backprop::cuda
