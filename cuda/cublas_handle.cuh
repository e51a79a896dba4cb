// The cuBLAS handle of a GEMM session, owned: destroyed with its owner, so
// an exception on any path leaks nothing.
#pragma once

#include <cublas_v2.h>

#include "cuda_check.cuh"

namespace backprop::cuda {

class CublasHandle {
 public:
  CublasHandle();
  ~CublasHandle();
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

}  // namespace backprop::cuda
