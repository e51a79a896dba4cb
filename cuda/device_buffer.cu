#include <string>

#include "backprop/error.hpp"
#include "device_buffer.cuh"

namespace backprop::cuda {

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  // The runtime keeps a failed call's error for the next cudaGetLastError,
  // which would then blame an innocent launch after this one is handled.
  cudaGetLastError();
  throw Error(status == cudaErrorMemoryAllocation ? ErrorKind::out_of_memory : ErrorKind::device,
              std::string("CUDA error in ") + call + " (" + file + ":" + std::to_string(line) +
              "): " + cudaGetErrorName(status) + ": " + cudaGetErrorString(status));
}

void* device_allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the error, as throw_cuda_error does
    throw Error(status == cudaErrorMemoryAllocation ? ErrorKind::out_of_memory : ErrorKind::device,
                "CUDA error in cudaMalloc of " + std::to_string(bytes) + " bytes: " +
                cudaGetErrorName(status) + ": " + cudaGetErrorString(status));
  }
  return pointer;
}

void device_free(void* pointer) noexcept {
  if (pointer) cudaFree(pointer);  // nothing useful to do with an error while freeing
}

Stream::Stream() { BACKPROP_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
Stream::~Stream() {
  if (stream_) cudaStreamDestroy(stream_);
}
void Stream::synchronize() const { BACKPROP_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

Event::Event() { BACKPROP_CUDA_CHECK(cudaEventCreate(&event_)); }
Event::~Event() {
  if (event_) cudaEventDestroy(event_);
}
void Event::record(cudaStream_t stream) { BACKPROP_CUDA_CHECK(cudaEventRecord(event_, stream)); }
double Event::seconds_between(const Event& start, const Event& stop) {
  float ms = 0;
  BACKPROP_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, stop.event_));
  return ms * 1e-3;
}

void CapturedGraph::reset() noexcept {
  if (exec_) cudaGraphExecDestroy(exec_);
  if (graph_) cudaGraphDestroy(graph_);
  exec_ = nullptr;
  graph_ = nullptr;
}

}  // namespace backprop::cuda
