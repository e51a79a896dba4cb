// The five matrix products of a training step, written row-major as the
// article writes them, and their translation into cuBLAS's column-major
// arguments. Host-only and free of CUDA types, so the tests run these very
// arguments through a reference GEMM on the CPU.
//
// A row-major matrix M (r x c, row stride ld) is, read column-major, Mᵀ
// (c x r, leading dimension ld). So the row-major C = op(A) op(B) is the
// column-major Cᵀ = op(B)ᵀ op(A)ᵀ: swap the operands, swap m and n, and keep
// each operand's transpose flag and leading dimension.
#pragma once

#include <cstddef>

namespace backprop::cuda {

enum class Transpose { no, yes };

// C (m x n) = alpha · op(A) (m x k) · op(B) (k x n) + beta · C, all row-major.
template <class T>
struct RowMajorProduct {
  Transpose transpose_a, transpose_b;
  int m, n, k;
  const T* a;
  int lda;  // row stride of A as stored
  const T* b;
  int ldb;
  T* c;
  int ldc;
  T alpha, beta;
};

// The arguments of cublas<T>gemm(handle, transa, transb, m, n, k, &alpha, A,
// lda, B, ldb, &beta, C, ldc), column-major.
template <class T>
struct ColumnMajorGemm {
  Transpose transa, transb;
  int m, n, k;
  T alpha;
  const T* A;
  int lda;
  const T* B;
  int ldb;
  T beta;
  T* C;
  int ldc;
};

template <class T>
ColumnMajorGemm<T> to_column_major(const RowMajorProduct<T>& p) {
  return {p.transpose_b, p.transpose_a, p.n, p.m, p.k, p.alpha, p.b, p.ldb, p.a, p.lda, p.beta, p.c, p.ldc};
}

// Device arrays one training step touches; shapes are row-major.
template <class T>
struct StepArrays {
  int inputs, hidden, outputs;
  const T* x;  // (N, inputs)   the whole data set
  const T* W1; // (inputs, hidden)
  const T* W2; // (hidden, outputs)
  T* dW1;      // (inputs, hidden)
  T* dW2;      // (hidden, outputs)
  T* a1;       // (chunk, hidden)  Z1, then A1
  T* z2;       // (chunk, outputs) Z2, then dZ2
  T* dz1;      // (chunk, hidden)  dA1, then dZ1
};

// The five products for the chunk of `rows` samples starting at `first_row`.
// The weight gradients of every chunk after the first add to the sums so far
// (beta = 1), so memory stays O(chunk x hidden) for any N.
template <class T>
struct StepGemms {
  ColumnMajorGemm<T> hidden_forward;   // Z1  = X_c · W1
  ColumnMajorGemm<T> output_forward;   // Z2  = A1 · W2
  ColumnMajorGemm<T> output_weights;   // dW2 (+)= A1ᵀ · dZ2
  ColumnMajorGemm<T> hidden_backward;  // dA1 = dZ2 · W2ᵀ
  ColumnMajorGemm<T> hidden_weights;   // dW1 (+)= X_cᵀ · dZ1
};

template <class T>
StepGemms<T> step_gemms(const StepArrays<T>& s, std::size_t first_row, int rows, bool first_chunk) {
  const T accumulate = first_chunk ? T(0) : T(1);
  const T* x = s.x + first_row * static_cast<std::size_t>(s.inputs);
  const int in = s.inputs, h = s.hidden, out = s.outputs;
  using P = RowMajorProduct<T>;
  const auto no = Transpose::no, yes = Transpose::yes;
  return {
      to_column_major(P{no, no, rows, h, in, x, in, s.W1, h, s.a1, h, T(1), T(0)}),
      to_column_major(P{no, no, rows, out, h, s.a1, h, s.W2, out, s.z2, out, T(1), T(0)}),
      to_column_major(P{yes, no, h, out, rows, s.a1, h, s.z2, out, s.dW2, out, T(1), accumulate}),
      to_column_major(P{no, yes, rows, h, out, s.z2, out, s.W2, out, s.dz1, h, T(1), T(0)}),
      to_column_major(P{yes, no, in, h, rows, x, in, s.dz1, h, s.dW1, h, T(1), accumulate}),
  };
}

}  // namespace backprop::cuda
