// Initialisation: NumPy's legacy generator bit for bit, and Glorot bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "backprop/backprop.hpp"
#include "golden_file.hpp"
#include "numpy_random.hpp"

namespace backprop {
namespace {

std::vector<double> parse_numbers(const std::string& text) {
  std::istringstream in(text);
  std::vector<double> v;
  std::string w;
  while (in >> w) v.push_back(std::strtod(w.c_str(), nullptr));
  return v;
}

TEST(NumpyInit, EqualsNumpyBitForBit) {
  std::ifstream in(testing::data_path("golden/init.txt"));
  ASSERT_TRUE(in) << "missing golden/init.txt";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto bar1 = line.find('|');
    const auto bar2 = line.find('|', bar1 + 1);
    std::istringstream head(line.substr(0, bar1));
    std::uint64_t seed;
    Shape shape;
    head >> seed >> shape.inputs >> shape.hidden >> shape.outputs;
    const Parameters p = init_numpy(shape, static_cast<std::uint32_t>(seed));
    EXPECT_EQ(p.W1, parse_numbers(line.substr(bar1 + 1, bar2 - bar1 - 1))) << "seed " << seed;
    EXPECT_EQ(p.W2, parse_numbers(line.substr(bar2 + 1))) << "seed " << seed;
    EXPECT_EQ(p.b1, std::vector<double>(shape.hidden, 0.0));
    EXPECT_EQ(p.b2, std::vector<double>(shape.outputs, 0.0));
    ++cases;
  }
  EXPECT_GE(cases, 6);
}

TEST(NumpyRandom, UniformUsesFiftyThreeBits) {
  // The first double NumPy draws after seed(0) is 0.5488135039273248.
  NumpyRandom rng(0);
  EXPECT_EQ(rng.uniform(), 0.5488135039273248);
}

// np.random.RandomState(seed).permutation(n), drawn in sequence
// (scripts/optimizer_reference.py writes them): the mini-batches' order.
TEST(NumpyRandom, PermutationsAreNumpysInSequence) {
  std::ifstream in(testing::data_path("golden/permutations.txt"));
  ASSERT_TRUE(in);
  std::string line;
  std::map<std::uint64_t, NumpyRandom> generators;
  std::size_t checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::uint64_t seed = 0;
    std::size_t n = 0;
    std::string bar;
    words >> seed >> n >> bar;
    std::vector<std::uint32_t> want;
    for (std::uint32_t i; words >> i;) want.push_back(i);
    ASSERT_EQ(want.size(), n);
    auto it = generators.try_emplace(seed, static_cast<std::uint32_t>(seed)).first;
    std::vector<std::uint32_t> got;
    it->second.permutation(n, got);
    EXPECT_EQ(got, want) << "seed " << seed << ", n " << n;
    ++checked;
  }
  EXPECT_EQ(checked, 10u);
}

// Bounded draws above 2^32 take 64 bits a draw, NumPy's next_uint64: the
// high word first.
TEST(NumpyRandom, BoundsAbove32BitsDrawTwoWordsHighFirst) {
  NumpyRandom a(1), b(1);
  std::mt19937 words(1);
  const std::uint64_t high = words(), low = words();
  const std::uint64_t max = (std::uint64_t{1} << 33) - 1;  // mask = max: the first draw is taken
  EXPECT_EQ(a.bounded(max), ((high << 32) | low) & max);
  EXPECT_EQ(b.bounded(0), 0u);
}

TEST(XavierInit, StaysWithinGlorotBoundAndIsReproducible) {
  const Shape shape{3, 200, 2};
  const Parameters a = init_xavier(shape, 9);
  const Parameters b = init_xavier(shape, 9);
  const Parameters c = init_xavier(shape, 10);
  EXPECT_EQ(a.W1, b.W1);
  EXPECT_NE(a.W1, c.W1);
  const double bound1 = std::sqrt(6.0 / (3 + 200));
  const double bound2 = std::sqrt(6.0 / (200 + 2));
  double largest = 0;
  for (double w : a.W1) {
    EXPECT_LE(std::fabs(w), bound1);
    largest = std::max(largest, std::fabs(w));
  }
  for (double w : a.W2) EXPECT_LE(std::fabs(w), bound2);
  EXPECT_GT(largest, 0.8 * bound1);  // spread over the range, not squeezed near 0
}

TEST(Shapes, NameIsInputsHiddenOutputs) {
  EXPECT_EQ(to_string(Shape{2, 4, 1}), "2-4-1");
  EXPECT_EQ(to_string(Shape{std::size_t{1} << 31, 1, 3}), "2147483648-1-3");
}

TEST(Shapes, ZeroWidthIsRejected) {
  EXPECT_THROW(init_numpy({2, 0, 1}, 1), Error);
  EXPECT_THROW(init_xavier({0, 4, 1}, 1), Error);
  EXPECT_THROW(Parameters::zeros({2, 4, 0}), Error);
}

// A width past int's range (what cuBLAS and the CUDA kernels take) is refused
// before anything is allocated. Without the bound, 2^32 inputs x 2^32 hidden
// units wrapped W1's size to 0 in size_t and passed validation.
TEST(Shapes, WidthBeyondIntIsRejected) {
  const std::size_t too_wide = std::size_t{1} << 31;
  for (const Shape shape : {Shape{too_wide, 1, 1}, Shape{1, too_wide, 1}, Shape{1, 1, too_wide},
                            Shape{std::size_t{1} << 32, std::size_t{1} << 32, 1}}) {
    try {
      validate(shape);
      ADD_FAILURE() << "accepted " << to_string(shape);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("2147483647"), std::string::npos) << e.what();
    }
    EXPECT_THROW(init_numpy(shape, 1), Error);
  }
  EXPECT_NO_THROW(validate(Shape{too_wide - 1, 1, 1}));
}

}  // namespace
}  // namespace backprop
