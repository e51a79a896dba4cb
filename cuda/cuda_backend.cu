// The CUDA backend: registered as "cuda", usable when a device answers; its
// sessions train on one of two paths (cuda_session.cuh):
//   gemm_session.cu    cuBLAS GEMMs and fused element-wise kernels, any shape
//   narrow_session.cu  a fused step and a finishing kernel per epoch, for one
//                      output, at most 4 inputs and 1024 hidden units (unless
//                      fuse_narrow is off)
#include <memory>
#include <string>

#include "backend_entry.hpp"
#include "backend_module.hpp"
#include "backprop/error.hpp"
#include "cuda_session.cuh"
#include "narrow_step.cuh"

namespace backprop {
namespace cuda {
namespace {

template <class T>
std::unique_ptr<CudaSession<T>> make_session(const Dataset& data, const Parameters& params,
                                             const BackendConfig& config, const Optimizer& optimizer = {}) {
  const Shape& shape = params.shape;
  if (config.fuse_narrow && fits_narrow_step(shape.inputs, shape.hidden, shape.outputs)) {
    return make_narrow_session<T>(data, params, optimizer, config.epochs_in_one_launch);
  }
  return make_gemm_session<T>(data, params, optimizer, config.allow_tf32);
}

__global__ void probe_kernel() {}

std::string unusable_reason() {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return std::string("no usable CUDA device (") + cudaGetErrorName(status) + ": " +
           cudaGetErrorString(status) + ")";
  }
  if (count == 0) return "no CUDA device found";
  cudaFuncAttributes attributes;
  status = cudaFuncGetAttributes(&attributes, probe_kernel);
  if (status != cudaSuccess) {
    cudaGetLastError();
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    return "this build has no kernel image for " + std::string(prop.name) + " (sm_" +
           std::to_string(prop.major) + std::to_string(prop.minor) +
           "); rebuild with -DCMAKE_CUDA_ARCHITECTURES=" + std::to_string(prop.major) +
           std::to_string(prop.minor) + " (" + cudaGetErrorString(status) + ")";
  }
  return {};
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const BackendConfig& config) : config_(config) {}
  std::string name() const override { return "cuda"; }

 protected:
  std::unique_ptr<TrainingSession> start_impl(const Dataset& data, const Parameters& params, Precision precision,
                                              const Optimizer& optimizer, const Batches& batches) const override {
    if (batches.size != 0 && batches.size < data.samples()) {
      throw Error(ErrorKind::usage, "the cuda backend trains on the whole data set per step so far: batches of " +
                                        std::to_string(batches.size) + " of " + std::to_string(data.samples()) +
                                        " samples need the cpu backend");
    }
    if (precision == Precision::f64) {
      auto session = make_session<double>(data, params, config_, optimizer);
      session->set_shuffle_seed(batches.seed);
      return session;
    }
    auto session = make_session<float>(data, params, config_, optimizer);
    session->set_shuffle_seed(batches.seed);
    return session;
  }
  std::vector<double> predict_impl(const Parameters& params, const Dataset& data,
                                   Precision precision) const override {
    if (precision == Precision::f64) return make_session<double>(data, params, config_)->probabilities();
    return make_session<float>(data, params, config_)->probabilities();
  }

 private:
  BackendConfig config_;
};

}  // namespace
}  // namespace cuda

BackendEntry cuda_backend_entry() {
  return {"cuda", cuda::unusable_reason, [](const BackendConfig& config) -> std::unique_ptr<Backend> {
            return std::make_unique<cuda::CudaBackend>(config);
          }};
}

}  // namespace backprop

// This file is the entry of libbackprop-cuda.so, which the library loads on
// first use of "cuda" (core/backend_module.cpp).
BACKPROP_MODULE_EXPORTS(backprop::cuda_backend_entry)
