// The part of the CUDA runtime the CUDA backend uses, emulated on the host so
// that CI without a GPU runs the backend's own sources: its kernels, launch
// shapes, graph capture and buffer handling. Kernels run block by block; the
// threads of a block are fibers that switch at __syncthreads and at warp
// shuffles (block_fibers.cpp).
// Device memory is host memory, so AddressSanitizer sees a kernel that
// reads past a buffer. What this cannot show is how a real GPU behaves:
// asynchrony, memory ordering between blocks, cuBLAS's own numerics.
//
// The sources are compiled unchanged, except that a build step rewrites each
// `kernel<<<grid, block, shared, stream>>>(args)` into a call of
// cuda_on_host::launch (rewrite_launches.cmake).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>

// Kernel-side qualifiers. A __shared__ array is a static of the host thread
// that runs the block: blocks on one thread run one at a time, and the
// fibers of the running block share it, as on a GPU. Declaring one tells
// the scheduler that the launch's blocks need fibers (block_fibers.cpp),
// so that threads sharing it without a barrier are seen to race.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ ::cuda_on_host::note_shared_memory(); static thread_local

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};

inline thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace cuda_on_host {
[[noreturn]] void fatal(const char* format, ...);
void note_shared_memory();  // the running block declares a __shared__ array
}

// Waits until every thread of the block has arrived; fails loudly when some
// of them have exited instead (a barrier in divergent code).
void __syncthreads();

namespace cuda_on_host {
// The value of lane (this lane ^ lane_mask), exchanged at a rendezvous of
// the warp's lanes named in `mask` (block_fibers.cpp).
std::uint64_t shuffle_xor(unsigned mask, std::uint64_t bits, int lane_mask);
}  // namespace cuda_on_host

// Each lane gets `value` from lane (its own ^ lane_mask). Every lane named
// in mask waits until all of them have arrived with that mask; one that
// names itself out, a partner outside the mask, or a lane that exits or
// waits at __syncthreads instead fails loudly, where a GPU's result would
// be undefined.
template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "32- and 64-bit values, as CUDA's");
  static_assert(std::is_trivially_copyable_v<T>);
  if (width != 32) cuda_on_host::fatal("__shfl_xor_sync: only whole warps (width 32) are emulated");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  bits = cuda_on_host::shuffle_xor(mask, bits, lane_mask);
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

template <class T>
constexpr T min(T a, T b) {
  return b < a ? b : a;
}

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureUnmatched = 903,
  cudaErrorUnknown = 999,
};

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
};

enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
};

constexpr unsigned cudaStreamNonBlocking = 1;

struct CUstream_st;
struct CUevent_st;
struct CUgraph_st;
struct CUgraphExec_st;
using cudaStream_t = CUstream_st*;
using cudaEvent_t = CUevent_st*;
using cudaGraph_t = CUgraph_st*;
using cudaGraphExec_t = CUgraphExec_st*;

struct cudaFuncAttributes {
  int maxThreadsPerBlock = 1024;
};
struct cudaDeviceProp {
  char name[256] = {};
  int major = 0, minor = 0;
};

const char* cudaGetErrorName(cudaError_t error);
const char* cudaGetErrorString(cudaError_t error);
cudaError_t cudaGetLastError();
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);

cudaError_t cudaMalloc(void** pointer, std::size_t bytes);
cudaError_t cudaFree(void* pointer);
cudaError_t cudaMemcpyAsync(void* to, const void* from, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaMemsetAsync(void* to, int value, std::size_t bytes, cudaStream_t stream = nullptr);

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);

cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t stop);

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags = 0);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, const void* function);
template <class Function>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, Function* function) {
  return cudaFuncGetAttributes(attributes, reinterpret_cast<const void*>(function));
}

namespace cuda_on_host {

// Runs `kernel` (every thread of every block) now, or records it when the
// stream is being captured. A shape a GPU would refuse is not run; the next
// cudaGetLastError returns cudaErrorInvalidConfiguration, as on a GPU.
void launch_on_stream(dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t stream,
                      std::function<void()> kernel);

template <class Kernel>
void launch(dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t stream, Kernel kernel) {
  static_assert(std::is_copy_constructible_v<Kernel>);
  launch_on_stream(grid, block, shared_bytes, stream, std::function<void()>(std::move(kernel)));
}

}  // namespace cuda_on_host
