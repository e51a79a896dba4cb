// RAII owners for what the CUDA backend holds: device memory, a stream, an
// event and an instantiated CUDA graph (the cuBLAS handle is in
// cublas_handle.cuh). Each frees its resource in its destructor, so an
// exception on any path leaks nothing. The CUDA runtime alone: the benchmark
// uses these too, without linking cuBLAS.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "cuda_check.cuh"

namespace backprop::cuda {

// Allocates bytes of device memory; out of memory names the size asked for.
void* device_allocate(std::size_t bytes);
void device_free(void* pointer) noexcept;

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count)
      : data_(static_cast<T*>(device_allocate(count * sizeof(T)))), count_(count) {}
  ~DeviceBuffer() { device_free(data_); }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() const { return data_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

  void upload(const std::vector<T>& host, cudaStream_t stream) {
    BACKPROP_CUDA_CHECK(cudaMemcpyAsync(data_, host.data(), host.size() * sizeof(T),
                                        cudaMemcpyHostToDevice, stream));
  }
  // Waits for the stream, so the host vector is ready on return.
  std::vector<T> download(std::size_t count, cudaStream_t stream) const {
    std::vector<T> host(count);
    BACKPROP_CUDA_CHECK(cudaMemcpyAsync(host.data(), data_, count * sizeof(T),
                                        cudaMemcpyDeviceToHost, stream));
    BACKPROP_CUDA_CHECK(cudaStreamSynchronize(stream));
    return host;
  }

 private:
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

// The whole buffer, converted to double on the host; waits for the stream.
template <class T>
std::vector<double> download_as_double(const DeviceBuffer<T>& buffer, cudaStream_t stream) {
  const std::vector<T> host = buffer.download(buffer.size(), stream);
  return std::vector<double>(host.begin(), host.end());
}

class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }
  void synchronize() const;

 private:
  cudaStream_t stream_ = nullptr;
};

class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(cudaStream_t stream);
  // Both events must have completed (synchronize their stream first).
  static double seconds_between(const Event& start, const Event& stop);

 private:
  cudaEvent_t event_ = nullptr;
};

// An instantiated graph, captured from the work a callable enqueues on a
// stream. If the callable throws, capture is ended and the partial graph freed.
class CapturedGraph {
 public:
  CapturedGraph() = default;
  ~CapturedGraph() { reset(); }
  CapturedGraph(const CapturedGraph&) = delete;
  CapturedGraph& operator=(const CapturedGraph&) = delete;

  template <class Enqueue>
  void capture(cudaStream_t stream, Enqueue&& enqueue) {
    reset();
    BACKPROP_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    try {
      enqueue();
    } catch (...) {
      cudaGraph_t partial = nullptr;
      cudaStreamEndCapture(stream, &partial);  // restores the stream; its own error is secondary,
      cudaGetLastError();                      // so it must not linger for the next check
      if (partial) cudaGraphDestroy(partial);
      throw;
    }
    BACKPROP_CUDA_CHECK(cudaStreamEndCapture(stream, &graph_));
    BACKPROP_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph_, 0));
  }
  bool ready() const { return exec_ != nullptr; }
  void launch(cudaStream_t stream) const { BACKPROP_CUDA_CHECK(cudaGraphLaunch(exec_, stream)); }
  void reset() noexcept;

 private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace backprop::cuda
