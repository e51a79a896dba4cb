// NumPy's legacy global generator (np.random.seed / rand / randn /
// permutation), rebuilt on std::mt19937 so that initial weights and the
// mini-batches' order equal NumPy's bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

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

  // np.random.randint's core for [0, max]: the smallest all-ones mask
  // covering max, and draws (32 bits up to 2^32 - 1, else 64) masked until
  // one is at most max.
  std::uint64_t bounded(std::uint64_t max);

  // np.random.permutation(n): arange(n), shuffled as NumPy's legacy
  // shuffle does (Fisher-Yates from the last element down, each swap
  // partner bounded(i)), written into `order` (resized to n).
  void permutation(std::size_t n, std::vector<std::uint32_t>& order);

 private:
  std::mt19937 mt_;
  bool has_cached_ = false;
  double cached_ = 0;
};

}  // namespace backprop
