// The element-wise halves of a training step, fused so that each reads its
// matrix once: the hidden activation, the output's sigmoid + BCE + gradient,
// and the hidden layer's backward. The two backward kernels also leave
// per-block partial sums over their rows (bias gradients, loss), in a number
// of blocks fixed by the row count, never by the GPU.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace backprop::cuda {

// A reducing block has kReduceThreads threads: column_tile(cols) across a
// tile of columns and the rest down kRowsPerBlock rows, so a matrix one
// column wide (Z2) still keeps every thread busy.
constexpr int kReduceThreads = 256;
constexpr int kMaxColumnTile = 32;
constexpr int kRowsPerBlock = 256;
constexpr int kElementwiseBlock = 256;

// Threads across the columns: cols rounded up to a power of two, at most 32.
inline int column_tile(int cols) {
  int tile = 1;
  while (tile < cols && tile < kMaxColumnTile) tile *= 2;
  return tile;
}

// Row blocks, and so partial sums per column, for `rows` rows.
inline std::size_t row_blocks(std::size_t rows) { return (rows + kRowsPerBlock - 1) / kRowsPerBlock; }
// Column tiles for `cols` columns.
inline int column_tiles(int cols) { return (cols + column_tile(cols) - 1) / column_tile(cols); }

// A1 = σ(Z1 + b1), in place.                         z1: (rows, hidden)
template <class T>
void bias_sigmoid_forward(T* z1, const T* b1, std::size_t rows, int hidden, cudaStream_t stream);

// From Z2 (in place, becomes dZ2):                    z2: (rows, outputs)
//   p = σ(Z2 + b2);  dZ2 = (p - y) / N;
//   db2_partials[block][o] = Σ_rows dZ2[:, o];  loss_partials[block] = Σ bce(Z2 + b2, y)
// with row block `block`, column tile `tile` at loss_partials[block * tiles + tile].
template <class T>
void bce_sigmoid_backward(T* z2, const T* y, const T* b2, std::size_t rows, int outputs,
                          T inv_samples, T* db2_partials, T* loss_partials, cudaStream_t stream);

// dZ1 = dA1 ⊙ A1 ⊙ (1 - A1), in place;  db1_partials[block][j] = Σ_rows dZ1[:, j].
template <class T>
void sigmoid_backward(T* da1, const T* a1, std::size_t rows, int hidden, T* db1_partials,
                      cudaStream_t stream);

// probabilities = σ(Z2 + b2).                        (rows, outputs)
template <class T>
void output_sigmoid(const T* z2, const T* b2, std::size_t rows, int outputs, T* probabilities,
                    cudaStream_t stream);

// to[i] = from[i], widened from float.
template <class T>
void widen(const float* from, T* to, std::size_t count, cudaStream_t stream);

}  // namespace backprop::cuda
