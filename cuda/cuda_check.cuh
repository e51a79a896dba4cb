// Every CUDA and cuBLAS call goes through these: a failure becomes
// backprop::Error naming the call, where it was made and CUDA's message.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

namespace backprop::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);

inline void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_error(status, call, file, line);
}
inline void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) throw_cublas_error(status, call, file, line);
}

}  // namespace backprop::cuda

#define BACKPROP_CUDA_CHECK(call) ::backprop::cuda::check_cuda((call), #call, __FILE__, __LINE__)
#define BACKPROP_CUBLAS_CHECK(call) ::backprop::cuda::check_cublas((call), #call, __FILE__, __LINE__)
// After a kernel launch: a bad configuration shows up here, not at the launch.
#define BACKPROP_CUDA_CHECK_LAUNCH(kernel_name) \
  ::backprop::cuda::check_cuda(cudaGetLastError(), "launch of " kernel_name, __FILE__, __LINE__)
