// CUDA failures become backprop::Error naming the call; out of memory names
// the bytes asked for. Runs with or without a device: both paths must fail
// cleanly.
#include <gtest/gtest.h>

#include "backprop/error.hpp"
#include "device_buffer.cuh"

namespace backprop::cuda {
namespace {

TEST(CudaErrors, ImpossibleAllocationNamesTheBytes) {
  const std::size_t absurd = std::size_t{1} << 52;  // 4 PiB
  try {
    DeviceBuffer<char> buffer(absurd);
    FAIL() << "allocating 4 PiB succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(absurd) + " bytes"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cudaMalloc"), std::string::npos) << e.what();
  }
}

TEST(CudaErrors, FailedCallNamesTheCallAndCudasMessage) {
  try {
    BACKPROP_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cudaErrorInvalidValue"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test_cuda_errors.cpp"), std::string::npos) << e.what();
  }
  try {
    BACKPROP_CUBLAS_CHECK(CUBLAS_STATUS_NOT_INITIALIZED);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUBLAS_STATUS_NOT_INITIALIZED"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace backprop::cuda
