// Trains XOR on the best available backend through the installed library and
// fails unless it learns.
#include <cstdio>

#include "backprop/backprop.hpp"

int main() {
  const auto backend = backprop::make_backend("auto");
  const auto data = backprop::Dataset::xor_points(4);
  const auto result = backprop::train(*backend, data, backprop::init_numpy({2, 4, 1}, 42), {});
  const auto p = backend->predict(result.params, data, backprop::Precision::f32);
  const bool learned = p[0] < 0.5 && p[1] > 0.5 && p[2] > 0.5 && p[3] < 0.5;
  std::printf("consumer: %s, final loss %.4f, %s\n", backend->name().c_str(), result.losses.back(),
              learned ? "learned XOR" : "did NOT learn XOR");
  return learned ? 0 : 1;
}
