// Optimizers: how a step turns the mean gradient into new parameters, with
// the semantics and defaults of PyTorch's torch.optim (SGD, SGD with
// momentum, RMSprop, Adam, AdamW). The learning rate is not here: it is
// given to each TrainingSession::run_epochs call, so that a caller can
// change it between calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace backprop {

enum class OptimizerKind {
  sgd,       // θ -= lr · g: the article's (torch.optim.SGD, momentum 0)
  momentum,  // torch.optim.SGD with momentum, dampening 0, optional Nesterov
  rmsprop,   // torch.optim.RMSprop, not centred, without momentum
  adam,      // torch.optim.Adam, with bias correction
  adamw,     // torch.optim.AdamW: Adam with decoupled weight decay
};

// Inline, as a backend module's messages use it.
constexpr std::string_view to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::sgd: return "sgd";
    case OptimizerKind::momentum: return "momentum";
    case OptimizerKind::rmsprop: return "rmsprop";
    case OptimizerKind::adam: return "adam";
    case OptimizerKind::adamw: return "adamw";
  }
  return "unknown";
}
// "sgd", "momentum", "rmsprop", "adam" or "adamw"; anything else throws
// backprop::Error (usage).
OptimizerKind parse_optimizer(std::string_view text);

// Every setting of every kind; a kind reads only its own. Plain values, so
// that a kernel can take it as an argument.
struct Optimizer {
  OptimizerKind kind = OptimizerKind::sgd;
  double momentum = 0.9;      // momentum: the buffer's decay μ
  bool nesterov = false;      // momentum: g + μ·buf instead of buf
  double alpha = 0.99;        // rmsprop: the squares' decay
  double beta1 = 0.9;         // adam, adamw: the mean's decay
  double beta2 = 0.999;       // adam, adamw: the squares' decay
  double eps = 1e-8;          // rmsprop, adam, adamw: added to the root
  double weight_decay = 0.0;  // adamw: θ *= 1 - lr·wd before the step;
                              // the others: g += wd·θ (an L2 term)

  // PyTorch's defaults for `kind`: those above, and weight decay 0.01 for
  // adamw. (torch.optim.SGD's momentum defaults to 0, which is plain sgd
  // here; the momentum kind takes 0.9, the value practitioners use.)
  static Optimizer of(OptimizerKind kind);

  // State arrays, each shaped like the parameters: 0 for sgd, 1 for
  // momentum (the buffer) and rmsprop (the squares), 2 for adam and adamw
  // (mean and squares).
  constexpr std::size_t state_arrays() const {
    return kind == OptimizerKind::sgd ? 0 : kind == OptimizerKind::momentum || kind == OptimizerKind::rmsprop ? 1 : 2;
  }

  // Whether a step needs the count of steps before it (Adam's bias
  // correction). Inline, as state_arrays: a backend module calls them.
  constexpr bool counts_steps() const { return kind == OptimizerKind::adam || kind == OptimizerKind::adamw; }
};

// Where a session's run stands, to resume it with the same bits: the
// optimizer's state arrays, its step count, and the epochs done (which fix
// the next epoch's batch order). TrainingSession::optimizer_state() gives
// it, TrainingSession::restore() takes it; Parameters::write_csv writes it
// beside the network.
struct OptimizerState {
  OptimizerKind kind = OptimizerKind::sgd;  // whose arrays `values` holds (adam and adamw share theirs)
  std::uint64_t steps = 0;                  // updates taken
  std::uint64_t epochs = 0;                 // epochs done
  std::uint32_t shuffle_seed = 0;           // the run's Batches::seed: a restored session replays its own
                                            // seed's orders, so the command line resumes with this one
  // Optimizer::of(kind).state_arrays() arrays, each in the parameter layout
  // [W1 | b1 | W2 | b2], one after the other: momentum's buffer, RMSprop's
  // squares, or Adam's mean then squares (torch.optim's momentum_buffer,
  // square_avg, exp_avg, exp_avg_sq).
  std::vector<double> values;
};

// Whether `state`'s arrays are those `optimizer` keeps (adam and adamw
// share theirs); sgd keeps none, so any state's steps and epochs suit it.
inline bool holds_state_of(const OptimizerState& state, const Optimizer& optimizer) {
  auto family = [](OptimizerKind k) { return k == OptimizerKind::adamw ? OptimizerKind::adam : k; };
  return optimizer.state_arrays() == 0 || family(state.kind) == family(optimizer.kind);
}

// PyTorch's default learning rate for `kind`: 1e-3 for adam and adamw,
// 1e-2 for rmsprop; for sgd and momentum, which have none there, the
// article's 1.0.
double default_learning_rate(OptimizerKind kind);

// Throws backprop::Error (usage) naming the setting unless: momentum, alpha,
// beta1 and beta2 lie in [0, 1) (momentum > 0 with nesterov), eps and
// weight decay are finite and >= 0, and kind is one of the enum's values.
void validate(const Optimizer& optimizer);

}  // namespace backprop
