// The update rule, written once: parameter k of the flat layout
// (parameter_layout.hpp) takes one step from its mean gradient g and its
// optimizer state. The CPU session calls it in a loop, the GEMM path's
// update kernel and the narrow step's finishing kernels call it once a
// thread, so every path and precision steps by the same arithmetic:
// element-wise in the working precision T, PyTorch's order of operations,
// and the scalars of a step (1 - β1^t and the like) in double, once.
// Host- and device-callable (BACKPROP_HOST_DEVICE).
#pragma once

#include <cstddef>
#include <cstdint>

#include "activation_math.hpp"  // BACKPROP_HOST_DEVICE
#include "backprop/optimizer.hpp"

namespace backprop {

// What a run of steps applies: the optimizer and the learning rate of the
// run_epochs call.
struct UpdateRule {
  Optimizer optimizer;
  double lr;
};

// The scalars of one step, the same for every parameter.
struct StepScalars {
  std::uint64_t step = 0;   // t: steps taken, this one included
  double step_size = 0;     // adam, adamw: lr / (1 - β1^t)
  double bias2_sqrt = 1;    // adam, adamw: sqrt(1 - β2^t)
};

// The scalars of step t (t >= 1), as torch.optim.Adam computes them.
BACKPROP_HOST_DEVICE StepScalars step_scalars(const UpdateRule& rule, std::uint64_t t) {
  StepScalars s;
  s.step = t;
  s.step_size = rule.lr;
  if (rule.optimizer.counts_steps()) {
    const double steps = static_cast<double>(t);
    s.step_size = rule.lr / (1.0 - pow(rule.optimizer.beta1, steps));
    s.bias2_sqrt = sqrt(1.0 - pow(rule.optimizer.beta2, steps));
  }
  return s;
}

// Where parameter k's state lives: state[k] for the first array (momentum's
// buffer, RMSprop's squares, Adam's mean), state[count + k] for the second
// (Adam's squares); count = ParameterLayout::count().
template <class T>
struct StateArrays {
  T* state;
  std::size_t count;
};

// One step of parameter theta with mean gradient g (torch.optim's
// single-tensor code, term by term).
template <class T>
BACKPROP_HOST_DEVICE void update_parameter(const UpdateRule& rule, const StepScalars& step, T& theta, T g,
                                           StateArrays<T> at, std::size_t k) {
  const Optimizer& o = rule.optimizer;
  const T lr = static_cast<T>(rule.lr);
  const bool decoupled = o.kind == OptimizerKind::adamw;
  // An L2 term in the gradient, skipped at 0 as PyTorch does (0 · ∞ is NaN).
  if (o.weight_decay != 0.0 && !decoupled) g += static_cast<T>(o.weight_decay) * theta;
  switch (o.kind) {
    case OptimizerKind::sgd:
      theta -= lr * g;
      return;
    case OptimizerKind::momentum: {
      // buf = μ·buf + g; a buffer of zeros makes the first step's buf = g,
      // as torch's clone of the first gradient does.
      T& buf = at.state[k];
      buf = buf * static_cast<T>(o.momentum) + g;
      const T direction = o.nesterov ? g + static_cast<T>(o.momentum) * buf : buf;
      theta -= lr * direction;
      return;
    }
    case OptimizerKind::rmsprop: {
      T& square = at.state[k];
      square = square * static_cast<T>(o.alpha) + static_cast<T>(1.0 - o.alpha) * g * g;
      theta -= lr * g / (math::square_root(square) + static_cast<T>(o.eps));
      return;
    }
    case OptimizerKind::adam:
    case OptimizerKind::adamw: {
      if (decoupled) theta *= static_cast<T>(1.0 - rule.lr * o.weight_decay);
      T& mean = at.state[k];
      T& square = at.state[at.count + k];
      mean += (g - mean) * static_cast<T>(1.0 - o.beta1);  // torch's lerp towards g
      square = square * static_cast<T>(o.beta2) + static_cast<T>(1.0 - o.beta2) * g * g;
      const T denominator = math::square_root(square) / static_cast<T>(step.bias2_sqrt) + static_cast<T>(o.eps);
      theta -= static_cast<T>(step.step_size) * mean / denominator;
      return;
    }
  }
}

}  // namespace backprop
