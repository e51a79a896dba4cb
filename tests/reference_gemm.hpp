// A plain column-major GEMM with cuBLAS's contract, for checking the
// arguments the CUDA backend passes to cublas<T>gemm without a GPU.
#pragma once

#include "gemm_plan.hpp"

namespace backprop::testing {

// C = alpha op(A) op(B) + beta C, column-major: element (i, j) of X is at
// X[i + j * ldx]. As in cuBLAS, C is not read when beta is 0.
template <class T>
void reference_gemm(const cuda::ColumnMajorGemm<T>& g) {
  using cuda::Transpose;
  auto a = [&](int i, int l) { return g.transa == Transpose::no ? g.A[i + l * g.lda] : g.A[l + i * g.lda]; };
  auto b = [&](int l, int j) { return g.transb == Transpose::no ? g.B[l + j * g.ldb] : g.B[j + l * g.ldb]; };
  for (int j = 0; j < g.n; ++j) {
    for (int i = 0; i < g.m; ++i) {
      double sum = 0;
      for (int l = 0; l < g.k; ++l) sum += static_cast<double>(a(i, l)) * b(l, j);
      T& c = g.C[i + j * g.ldc];
      c = static_cast<T>(g.alpha * sum + (g.beta == T(0) ? 0.0 : g.beta * c));
    }
  }
}

}  // namespace backprop::testing
