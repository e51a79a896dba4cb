#include <string>

#include "backprop/error.hpp"
#include "cublas_handle.cuh"

namespace backprop::cuda {

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw Error(status == CUBLAS_STATUS_ALLOC_FAILED ? ErrorKind::out_of_memory : ErrorKind::device,
              std::string("cuBLAS error in ") + call + " (" + file + ":" + std::to_string(line) +
              "): " + cublasGetStatusName(status) + ": " + cublasGetStatusString(status));
}

CublasHandle::CublasHandle() { BACKPROP_CUBLAS_CHECK(cublasCreate(&handle_)); }
CublasHandle::~CublasHandle() {
  if (handle_) cublasDestroy(handle_);
}

}  // namespace backprop::cuda
