// The emulated cuBLAS: handles, and GEMMs run by reference_gemm.hpp on the
// handle's stream after the argument checks cuBLAS documents.
#include <algorithm>
#include <type_traits>

#include "cublas_v2.h"
#include "cuda_on_host.hpp"
#include "emulator_state.hpp"
#include "gemm_plan.hpp"
#include "reference_gemm.hpp"

struct cublasContext {
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;
  std::size_t workspace_bytes = 0;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
};

namespace cuda_on_host {
namespace {

// Whether the column-major matrix (rows x cols, leading dimension ld) at
// `p` lies inside one device allocation.
template <class T>
bool matrix_in_device_memory(const T* p, int rows, int cols, int ld) {
  if (rows == 0 || cols == 0) return true;
  const std::size_t elements = static_cast<std::size_t>(cols - 1) * ld + rows;
  return in_device_memory(p, elements * sizeof(T));
}

template <class T>
cublasStatus_t gemm(const char* name, cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                    int m, int n, int k, const T* alpha, const T* A, int lda, const T* B, int ldb, const T* beta,
                    T* C, int ldc) {
  if (inject_failure(name)) {
    if (handle) invalidate_capture(handle->stream);
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool a_transposed = transa == CUBLAS_OP_T, b_transposed = transb == CUBLAS_OP_T;
  // op(A) is m x k and op(B) is k x n, so A is stored m x k or k x m.
  const int a_rows = a_transposed ? k : m, a_cols = a_transposed ? m : k;
  const int b_rows = b_transposed ? n : k, b_cols = b_transposed ? k : n;
  const bool valid = m >= 0 && n >= 0 && k >= 0 && lda >= std::max(1, a_rows) && ldb >= std::max(1, b_rows) &&
                     ldc >= std::max(1, m) && alpha && beta;
  if (!valid) {
    invalidate_capture(handle->stream);
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (!matrix_in_device_memory(A, a_rows, a_cols, lda) || !matrix_in_device_memory(B, b_rows, b_cols, ldb) ||
      !matrix_in_device_memory(C, m, n, ldc)) {
    fatal("%s: a matrix reaches outside device memory (m %d, n %d, k %d, lda %d, ldb %d, ldc %d)", name, m, n, k,
          lda, ldb, ldc);
  }
  using backprop::cuda::Transpose;
  const backprop::cuda::ColumnMajorGemm<T> g{a_transposed ? Transpose::yes : Transpose::no,
                                             b_transposed ? Transpose::yes : Transpose::no,
                                             m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc};
  activity_counts().gemms += 1;
  if (std::is_same_v<T, float> && handle->math == CUBLAS_TF32_TENSOR_OP_MATH) activity_counts().tf32_gemms += 1;
  enqueue(handle->stream, [g] { backprop::testing::reference_gemm(g); });
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace
}  // namespace cuda_on_host

using namespace cuda_on_host;

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (inject_failure("cublasCreate")) return CUBLAS_STATUS_NOT_INITIALIZED;
  *handle = new cublasContext;
  live_counts().cublas_handles += 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  live_counts().cublas_handles -= 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (inject_failure("cublasSetStream")) return CUBLAS_STATUS_EXECUTION_FAILED;
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void* workspace, std::size_t bytes) {
  if (inject_failure("cublasSetWorkspace")) return CUBLAS_STATUS_EXECUTION_FAILED;
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (bytes != 0 && !in_device_memory(workspace, bytes)) return CUBLAS_STATUS_INVALID_VALUE;
  handle->workspace = workspace;
  handle->workspace_bytes = bytes;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (inject_failure("cublasSetMathMode")) return CUBLAS_STATUS_EXECUTION_FAILED;
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
  return gemm("cublasSgemm", handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

cublasStatus_t cublasDgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const double* alpha, const double* A, int lda, const double* B, int ldb,
                           const double* beta, double* C, int ldc) {
  return gemm("cublasDgemm", handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute (injected by the host emulation)";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
  }
  return "unknown status";
}
