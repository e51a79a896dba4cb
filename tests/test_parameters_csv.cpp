// Parameters as CSV: what write_csv writes reads back bit for bit, in any
// order of lines, and every damaged file fails naming the file and, where
// the damage sits on one line, that line.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "backprop/backprop.hpp"
#include "random_edits.hpp"
#include "temp_file.hpp"

namespace backprop {
namespace {

using testing::TempFile;

std::string csv_of(const Parameters& p) {
  std::ostringstream out;
  p.write_csv(out);
  return out.str();
}

void expect_same_bits(const std::vector<double>& a, const std::vector<double>& b, const char* name) {
  ASSERT_EQ(a.size(), b.size()) << name;
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[k]), std::bit_cast<std::uint64_t>(b[k])) << name << "[" << k << "]";
  }
}

void expect_same_parameters(const Parameters& a, const Parameters& b) {
  EXPECT_EQ(a.shape, b.shape);
  expect_same_bits(a.W1, b.W1, "W1");
  expect_same_bits(a.b1, b.b1, "b1");
  expect_same_bits(a.W2, b.W2, "W2");
  expect_same_bits(a.b2, b.b2, "b2");
}

// A 3-5-2 network of awkward doubles: subnormal, negative zero, the largest,
// float32 values and ones no short decimal holds.
Parameters awkward_parameters() {
  Parameters p = init_xavier({3, 5, 2}, 7);
  p.W1[0] = std::numeric_limits<double>::denorm_min();
  p.W1[1] = -0.0;
  p.W1[2] = std::numeric_limits<double>::max();
  p.W1[3] = -std::numeric_limits<double>::min();
  p.b1[4] = 0.1;
  p.W2[9] = static_cast<float>(1.0 / 3.0);
  p.b2 = {1.0 / 3.0, -2.5e-300};
  return p;
}

TEST(ParametersCsv, ReadsBackWhatItWroteBitForBit) {
  const Parameters p = awkward_parameters();
  const std::string text = csv_of(p);
  EXPECT_EQ(text.substr(0, text.find('\n')), "parameter,row,column,value");
  EXPECT_NE(text.find("\nW1,0,1,-0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nW2,4,1,"), std::string::npos) << text;  // the last of W2's 5 x 2
  EXPECT_NE(text.find("\nb2,0,1,"), std::string::npos) << text;
  TempFile file(text);
  expect_same_parameters(Parameters::from_csv(file.path()), p);
}

TEST(ParametersCsv, LinesMayComeInAnyOrder) {
  const Parameters p = awkward_parameters();
  std::istringstream in(csv_of(p));
  std::string header, line;
  std::getline(in, header);
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  std::shuffle(lines.begin(), lines.end(), std::mt19937(3));
  std::string shuffled = header + "\r\n\n";  // and CRLF and blank lines
  for (const auto& l : lines) shuffled += " " + l + "\n";
  TempFile file(shuffled);
  expect_same_parameters(Parameters::from_csv(file.path()), p);
}

struct Damage {
  std::string text;
  std::vector<std::string> parts;  // each in the message, besides the path
};

// Named in the test list by what its message must say.
void PrintTo(const Damage& d, std::ostream* os) { *os << d.parts.back(); }

class DamagedParametersCsv : public ::testing::TestWithParam<Damage> {};

TEST_P(DamagedParametersCsv, FailsNamingWhatIsWrong) {
  const Damage& d = GetParam();
  TempFile file(d.text);
  try {
    Parameters::from_csv(file.path());
    ADD_FAILURE() << "no error for:\n" << d.text;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(file.path(), 0), 0u) << message;
    for (const auto& part : d.parts) EXPECT_NE(message.find(part), std::string::npos) << part << " | " << message;
  }
}

// A whole 1-1-1 network, to damage one line at a time.
const std::string kHead = "parameter,row,column,value\n";
const std::string kOne = kHead + "W1,0,0,1\nb1,0,0,2\nW2,0,0,3\nb2,0,0,4\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, DamagedParametersCsv,
    ::testing::Values(
        Damage{"", {"empty"}}, Damage{kHead, {"no parameter values"}},
        Damage{"x1,x2,y\n0,0,0\n", {":1:", "expected the header"}},
        Damage{kOne + "W1,0,1\n", {":6:", "expected 4 columns", "found 3"}},
        Damage{kOne + "W3,0,0,1\n", {":6:", "'W3' is not a parameter"}},
        Damage{kOne + "W1,-1,0,1\n", {":6:", "row '-1'"}},
        Damage{kOne + "W1,0,1.5,1\n", {":6:", "column '1.5'"}},
        Damage{kOne + "W1,,0,1\n", {":6:", "row ''"}},
        Damage{kOne + "W1,99999999999,0,1\n", {":6:", "row '99999999999' is past the largest width"}},
        Damage{kOne + "b1,1,0,1\n", {":6:", "b1 has one row, row 0, not row 1"}},
        Damage{kHead + "W1,0,0,nan\n", {":2:", "value 'nan' is not finite"}},
        Damage{kHead + "W1,0,0,1e999\n", {":2:", "value '1e999' is not finite"}},
        Damage{kHead + "W1,0,0,one\n", {":2:", "value 'one' is not a number"}},
        Damage{kOne + "W2,0,0,5\n", {":6:", "W2 row 0 column 0 is given twice, first on line 4"}},
        Damage{kOne + "W1,1,1,5\n", {"W1 row 0 column 1 is missing", "2-2-1 network"}},
        Damage{kOne + "b1,0,1,5\n", {"W1 row 0 column 1 is missing", "1-2-1 network"}},
        Damage{kHead + "b1,0,0,2\nW2,0,0,3\nb2,0,0,4\n", {"no W1 values"}},
        Damage{kHead + "W1,0,0,1\nb1,0,0,2\n", {"no W2 or b2 values"}},
        // A huge claimed width is a missing value, found before anything is allocated.
        Damage{kOne + "W1,2000000000,0,5\n", {"W1 row 1 column 0 is missing"}},
        Damage{kOne + std::string("W1,0,0\0,1\n", 11), {":6:", "binary"}},
        // A checkpoint's state.
        Damage{kOne + "step,0,0,1.5\n", {":6:", "step '1.5' is not a whole number"}},
        Damage{kOne + "epoch,0,0,-1\n", {":6:", "epoch '-1' is not a whole number"}},
        Damage{kOne + "step,0,1,3\n", {":6:", "step has one column, column 0, not column 1"}},
        Damage{kOne + "exp_avg.W3,0,0,1\n", {":6:", "'exp_avg.W3' is not a parameter", "exp_avg_sq"}},
        Damage{kOne + "exp_avg.W1,0,0,1\n", {":6:", "the state arrays are not one optimizer's", "exp_avg with exp_avg_sq"}},
        Damage{kOne + "momentum_buffer.W1,0,0,1\n", {"momentum_buffer has 1 values; the 1-1-1 network has 4"}},
        Damage{kOne + "momentum_buffer.W1,0,3,1\n", {":6:", "momentum_buffer.W1 row 0 column 3 is outside the 1-1-1"}},
        Damage{kOne + "square_avg.W1,0,0,1\nsquare_avg.b1,0,0,1\nsquare_avg.W2,0,0,1\nsquare_avg.b2,0,0,1\n"
                      "exp_avg.b2,0,0,1\n", {":10:", "the state arrays are not one optimizer's"}},
        Damage{kOne + "step,0,0,1\nstep,0,0,2\n", {":7:", "step row 0 column 0 is given twice, first on line 6"}}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

// A checkpoint: the network, then the state. It reads back whole, in any
// order of lines; read as a network alone, its state is left.
TEST(ParametersCsv, ACheckpointsStateReadsBackBitForBit) {
  const Parameters p = init_xavier({3, 5, 2}, 7);
  const std::size_t count = 3 * 5 + 5 + 5 * 2 + 2;
  for (const OptimizerKind kind : {OptimizerKind::momentum, OptimizerKind::rmsprop, OptimizerKind::adam}) {
    OptimizerState state;
    state.kind = kind;
    state.steps = 123456789012ull;
    state.epochs = 42;
    std::mt19937 rng(static_cast<unsigned>(kind));
    state.values.resize(Optimizer::of(kind).state_arrays() * count);
    for (double& v : state.values) v = std::ldexp(static_cast<double>(rng()), -40) - 0.001;
    std::ostringstream out;
    p.write_csv(out, &state);
    std::string text = out.str();
    // Reversed lines (the header kept first).
    std::vector<std::string> lines;
    std::istringstream in(text.substr(text.find('\n') + 1));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::reverse(lines.begin(), lines.end());
    std::string reversed = text.substr(0, text.find('\n') + 1);
    for (const auto& line : lines) reversed += line + "\n";
    TempFile file(reversed);
    OptimizerState read;
    expect_same_parameters(Parameters::from_csv(file.path(), &read), p);
    EXPECT_EQ(read.kind, kind);
    EXPECT_EQ(read.steps, state.steps);
    EXPECT_EQ(read.epochs, state.epochs);
    expect_same_bits(read.values, state.values, "state");
    expect_same_parameters(Parameters::from_csv(file.path()), p);
  }
  // Only steps and epochs (sgd in shuffled batches): no arrays.
  OptimizerState counts;
  counts.steps = 9;
  counts.epochs = 3;
  std::ostringstream out;
  p.write_csv(out, &counts);
  TempFile file(out.str());
  OptimizerState read;
  Parameters::from_csv(file.path(), &read);
  EXPECT_EQ(read.steps, 9u);
  EXPECT_EQ(read.epochs, 3u);
  EXPECT_TRUE(read.values.empty());
}

TEST(ParametersCsv, MissingFileIsNamed) {
  try {
    Parameters::from_csv("/nonexistent/params.csv");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open parameter file '/nonexistent/params.csv'"), std::string::npos)
        << e.what();
  }
}

// Random edits of a good file: each reads as valid parameters or fails with
// backprop::Error naming the file, never anything else.
TEST(ParametersCsv, DamagedFilesReadValidOrFailNamingTheFile) {
  const std::string good = csv_of(init_numpy({2, 3, 1}, 5));
  const std::string alphabet = std::string("0123456789.,-+eEWb12 \t\r\nnaxz") + '\0' + '\xff';
  std::mt19937 rng(17);
  int read = 0, refused = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::string text = testing::randomly_edited(good, alphabet, 3, rng);
    TempFile file(text);
    try {
      const Parameters p = Parameters::from_csv(file.path());
      EXPECT_NO_THROW(validate(p)) << text;
      ++read;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(file.path(), 0), 0u) << e.what();
      ++refused;
    }
  }
  EXPECT_GT(read, 100);
  EXPECT_GT(refused, 100);
}

}  // namespace
}  // namespace backprop
