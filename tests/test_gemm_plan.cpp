// The translation of each row-major product of a training step into cuBLAS's
// column-major arguments, executed on the CPU by a plain column-major GEMM
// with exactly the arguments the CUDA backend passes to cublas<T>gemm.
#include <gtest/gtest.h>

#include <ostream>
#include <random>

#include "gemm_plan.hpp"
#include "reference_gemm.hpp"

namespace backprop::cuda {
namespace {

using testing::reference_gemm;

// Row-major C (m x n) = op(A) op(B) + beta C, written the obvious way.
void row_major(bool ta, bool tb, int m, int n, int k, const std::vector<double>& A, const std::vector<double>& B,
               std::vector<double>& C, double beta) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double sum = 0;
      for (int l = 0; l < k; ++l) sum += (ta ? A[l * m + i] : A[i * k + l]) * (tb ? B[j * k + l] : B[l * n + j]);
      C[i * n + j] = sum + beta * C[i * n + j];
    }
  }
}

std::vector<double> random_values(std::size_t count, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(count);
  for (double& x : v) x = u(rng);
  return v;
}

struct PlanCase {
  int inputs, hidden, outputs, samples;
  std::size_t first_row;
  int rows;
};

void PrintTo(const PlanCase& c, std::ostream* os) {
  *os << c.inputs << '-' << c.hidden << '-' << c.outputs << ", " << c.samples << " samples, rows " << c.first_row
      << " to " << c.first_row + c.rows;
}

class GemmPlan : public ::testing::TestWithParam<PlanCase> {};

TEST_P(GemmPlan, EachProductMatchesTheRowMajorAlgebra) {
  const auto c = GetParam();
  std::mt19937 rng(c.inputs * 131 + c.hidden * 7 + c.rows);
  const int in = c.inputs, h = c.hidden, out = c.outputs, n = c.rows;
  std::vector<double> x = random_values(std::size_t(c.samples) * in, rng);
  std::vector<double> W1 = random_values(in * h, rng), W2 = random_values(h * out, rng);
  std::vector<double> dW1 = random_values(in * h, rng), dW2 = random_values(h * out, rng);  // sums so far
  std::vector<double> a1(std::size_t(n) * h), z2(std::size_t(n) * out), dz1(std::size_t(n) * h);
  const StepArrays<double> arrays{in, h, out, x.data(), W1.data(), W2.data(), dW1.data(), dW2.data(),
                                  a1.data(), z2.data(), dz1.data()};

  // Runs one planned GEMM through the reference, then compares what it wrote
  // with the row-major product it stands for; `want` holds C before the GEMM.
  auto check = [](const char* name, const ColumnMajorGemm<double>& gemm, const std::vector<double>& got, bool ta,
                  bool tb, int rows, int cols, int inner, const std::vector<double>& A, const std::vector<double>& B,
                  std::vector<double> want, double beta, double tolerance) {
    reference_gemm(gemm);
    row_major(ta, tb, rows, cols, inner, A, B, want, beta);
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tolerance) << name << " " << i;
  };
  for (bool first_chunk : {true, false}) {
    const auto g = step_gemms(arrays, c.first_row, n, first_chunk);
    const std::vector<double> xc(x.begin() + c.first_row * in, x.begin() + (c.first_row + n) * in);
    const double beta = first_chunk ? 0.0 : 1.0;
    check("Z1", g.hidden_forward, a1, false, false, n, h, in, xc, W1, std::vector<double>(a1.size()), 0, 1e-12);
    check("Z2", g.output_forward, z2, false, false, n, out, h, a1, W2, std::vector<double>(z2.size()), 0, 1e-12);
    check("dW2", g.output_weights, dW2, true, false, h, out, n, a1, z2, dW2, beta, 1e-10);
    check("dA1", g.hidden_backward, dz1, false, true, n, h, out, z2, W2, std::vector<double>(dz1.size()), 0, 1e-12);
    check("dW1", g.hidden_weights, dW1, true, false, in, h, n, xc, dz1, dW1, beta, 1e-10);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmPlan,
                         ::testing::Values(PlanCase{2, 4, 1, 4, 0, 4},       // the article
                                           PlanCase{2, 4, 1, 10, 3, 5},      // a chunk in the middle
                                           PlanCase{3, 7, 2, 40, 33, 7},     // the last, short chunk
                                           PlanCase{1, 1, 1, 1, 0, 1},       // one sample
                                           PlanCase{5, 33, 3, 300, 256, 44}, // widths that are not multiples of anything
                                           PlanCase{2, 64, 1, 520, 256, 256}));

TEST(GemmPlan, SwapsOperandsAndDimensions) {
  const float a[1] = {}, b[1] = {};
  float c[1] = {};
  const RowMajorProduct<float> p{Transpose::yes, Transpose::no, 3, 5, 7, a, 3, b, 5, c, 5, 2.0f, 1.0f};
  const ColumnMajorGemm<float> g = to_column_major(p);
  EXPECT_EQ(g.transa, Transpose::no);
  EXPECT_EQ(g.transb, Transpose::yes);
  EXPECT_EQ(g.m, 5);
  EXPECT_EQ(g.n, 3);
  EXPECT_EQ(g.k, 7);
  EXPECT_EQ(g.A, b);
  EXPECT_EQ(g.lda, 5);
  EXPECT_EQ(g.B, a);
  EXPECT_EQ(g.ldb, 3);
  EXPECT_EQ(g.ldc, 5);
  EXPECT_EQ(g.alpha, 2.0f);
  EXPECT_EQ(g.beta, 1.0f);
}

}  // namespace
}  // namespace backprop::cuda
