// NumPy's legacy global generator (np.random.seed / rand / randn), rebuilt on
// std::mt19937 so that initial weights equal the article's bit for bit.
#pragma once

#include <cstdint>
#include <random>

namespace backprop {

class NumpyRandom {
 public:
  // np.random.seed(seed): MT19937's init_genrand, which std::mt19937 shares.
  explicit NumpyRandom(std::uint32_t seed) : mt_(seed) {}

  // np.random.random_sample(): 53 random bits from two 32-bit draws,
  // the first keeping 27 bits (a >> 5), the second 26 (b >> 6).
  double uniform() {
    const std::uint32_t a = static_cast<std::uint32_t>(mt_()) >> 5;
    const std::uint32_t b = static_cast<std::uint32_t>(mt_()) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  // np.random.randn(): Marsaglia's polar method. Each accepted pair gives two
  // normals; NumPy returns f*x2 first and keeps f*x1 for the next call.
  double normal();

 private:
  std::mt19937 mt_;
  bool has_cached_ = false;
  double cached_ = 0;
};

}  // namespace backprop
