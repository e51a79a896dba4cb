// The narrow path: one output, at most 4 inputs and 1024 hidden units (the
// article's 2-4-1 among them). One epoch, two kernels:
//   narrow_step_partials   forward and backward per sample, in registers;
//                          per-block sums of every gradient and the loss
//   finish_narrow_step     those sums added over the blocks in a fixed order
//                          in double; each parameter's update by the update
//                          rule (update_rule.hpp), and the loss into its array
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
  using Base::in_, Base::hidden_, Base::out_, Base::samples_, Base::x_, Base::y_, Base::layout_;

 public:
  NarrowSession(const Dataset& data, const Parameters& params, const Optimizer& optimizer, bool epochs_in_one_launch)
      : Base(data, params, optimizer),
        one_launch_(epochs_in_one_launch && fits_one_block(samples_, hidden_)),
        partials_(layout_.sums() * narrow_blocks(samples_, hidden_)),
        sums_(layout_.sums()) {}

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
    const std::vector<double> sums = sums_.download(layout_.sums(), this->stream());
    auto slice = [&](std::size_t from, std::size_t to) { return std::vector<double>(&sums[from], &sums[to]); };
    const ParameterLayout& at = layout_;
    Gradients g;
    g.dW1 = slice(at.W1(), at.b1());
    g.db1 = slice(at.b1(), at.W2());
    g.dW2 = slice(at.W2(), at.b2());
    g.db2 = slice(at.b2(), at.count());
    g.loss = sums[at.loss()] * this->inv_samples();
    return g;
  }

  void enqueue_epoch(const UpdateRule& rule, double* loss_history, unsigned* epoch) override {
    narrow_step_partials(step(), this->stream());
    const NarrowUpdate<T> u = update(rule, loss_history, epoch);
    finish_narrow_step(partials_.data(), narrow_blocks(samples_, hidden_), in_, hidden_, nullptr, &u, this->stream());
  }

  bool epochs_fit_one_launch() const override { return one_launch_; }

  void enqueue_epochs_in_one_launch(std::size_t count, const UpdateRule& rule, double* loss_history,
                                    unsigned* epoch) override {
    narrow_epochs_in_one_block(step(), update(rule, loss_history, epoch), count, this->stream());
  }

  std::size_t working_bytes() const override { return partials_.bytes() + sums_.bytes(); }

 private:
  NarrowStep<T> step() const {
    return {in_, hidden_, x_.data(), y_.data(), samples_, this->W1(), this->b1(), this->W2(), this->b2(),
            T(1) / static_cast<T>(samples_), partials_.data(), narrow_exp2(samples_, hidden_)};
  }

  NarrowUpdate<T> update(const UpdateRule& rule, double* loss_history, unsigned* epoch) const {
    return {rule, this->params_.data(), this->state(), this->current_step(), this->inv_samples(), loss_history, epoch};
  }

  const bool one_launch_;        // epochs in one launch (a data set of one block)
  DeviceBuffer<T> partials_;     // (layout_.sums(), narrow blocks)
  DeviceBuffer<double> sums_;    // (layout_.sums()), for gradients()
};

}  // namespace

template <class T>
std::unique_ptr<CudaSession<T>> make_narrow_session(const Dataset& data, const Parameters& params,
                                                    const Optimizer& optimizer, bool epochs_in_one_launch) {
  return std::make_unique<NarrowSession<T>>(data, params, optimizer, epochs_in_one_launch);
}

template std::unique_ptr<CudaSession<float>> make_narrow_session<float>(const Dataset&, const Parameters&,
                                                                        const Optimizer&, bool);
template std::unique_ptr<CudaSession<double>> make_narrow_session<double>(const Dataset&, const Parameters&,
                                                                          const Optimizer&, bool);

}  // namespace backprop::cuda
