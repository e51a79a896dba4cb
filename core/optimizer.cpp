// Names, defaults and checks of the optimizers; the update itself is
// core/update_rule.hpp.
#include <cmath>
#include <cstdio>
#include <string>

#include "backprop/error.hpp"
#include "backprop/optimizer.hpp"

namespace backprop {
namespace {

constexpr OptimizerKind kKinds[] = {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::rmsprop,
                                    OptimizerKind::adam, OptimizerKind::adamw};

bool known(OptimizerKind kind) {
  for (const OptimizerKind k : kKinds) {
    if (k == kind) return true;
  }
  return false;
}

void require(bool ok, const std::string& what) {
  if (!ok) throw Error(ErrorKind::usage, what);
}

// A decay factor: finite, in [0, 1).
void require_decay(double value, const char* name) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  require(std::isfinite(value) && value >= 0.0 && value < 1.0,
          std::string(name) + " must be at least 0 and below 1, got " + text);
}

}  // namespace

OptimizerKind parse_optimizer(std::string_view text) {
  for (const OptimizerKind kind : kKinds) {
    if (text == to_string(kind)) return kind;
  }
  throw Error(ErrorKind::usage,
              "unknown optimizer '" + std::string(text) + "'; use sgd, momentum, rmsprop, adam or adamw");
}

Optimizer Optimizer::of(OptimizerKind kind) {
  Optimizer o;
  o.kind = kind;
  if (kind == OptimizerKind::adamw) o.weight_decay = 0.01;
  return o;
}

double default_learning_rate(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::rmsprop: return 1e-2;
    case OptimizerKind::adam:
    case OptimizerKind::adamw: return 1e-3;
    default: return 1.0;
  }
}

void validate(const Optimizer& o) {
  require(known(o.kind), "unknown optimizer (value " + std::to_string(static_cast<int>(o.kind)) + ")");
  switch (o.kind) {
    case OptimizerKind::sgd: break;
    case OptimizerKind::momentum:
      require_decay(o.momentum, "momentum");
      require(!o.nesterov || o.momentum > 0.0, "nesterov needs a momentum above 0");
      break;
    case OptimizerKind::rmsprop: require_decay(o.alpha, "alpha"); break;
    case OptimizerKind::adam:
    case OptimizerKind::adamw:
      require_decay(o.beta1, "beta1");
      require_decay(o.beta2, "beta2");
      break;
  }
  require(std::isfinite(o.eps) && o.eps >= 0.0, "eps must be a finite number at least 0");
  require(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0,
          "weight decay must be a finite number at least 0");
}

}  // namespace backprop
