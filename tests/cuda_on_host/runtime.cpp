// The emulated CUDA runtime: device memory, streams, events, graphs and the
// error state, with the checks a GPU would make. Work runs when it is
// enqueued, except on a stream being captured, where it is recorded into the
// graph; a graph launch replays what was recorded.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "cuda_on_host.hpp"
#include "emulator_state.hpp"

struct CUstream_st {
  bool capturing = false;
  bool capture_invalidated = false;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::vector<std::function<void()>> captured;
};
struct CUevent_st {
  bool recorded = false;
  std::chrono::steady_clock::time_point at;
};
struct CUgraph_st {
  std::vector<std::function<void()>> work;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> work;
};

namespace cuda_on_host {
namespace {

struct State {
  std::map<const char*, std::size_t> allocations;  // start -> bytes
  std::size_t device_bytes = std::size_t{16} << 30;
  LiveResources live;
  Activity activity;
  std::size_t calls = 0, fail_at = 0;
  std::string failed;
  cudaError_t last_error = cudaSuccess;
  std::vector<CUstream_st*> capturing;  // streams in capture, for the unsafe-call check
};

State& state() {
  static State s;
  return s;
}

cudaError_t fail(cudaError_t error) {
  state().last_error = error;
  return error;
}

// An injected failure, reported like CUDA's own.
#define CUDA_ON_HOST_INJECT(call) \
  if (inject_failure(call)) return fail(cudaErrorUnknown)

// CUDA forbids calls that may synchronise or allocate while a stream of this
// thread is being captured (outside relaxed mode); they fail and ruin the
// capture.
bool unsafe_during_capture() {
  bool unsafe = false;
  for (CUstream_st* s : state().capturing) {
    if (s->mode != cudaStreamCaptureModeRelaxed) {
      s->capture_invalidated = true;
      unsafe = true;
    }
  }
  return unsafe;
}

bool in_host_memory(const void* pointer, std::size_t bytes) {
  for (const auto& [start, size] : state().allocations) {
    const char* p = static_cast<const char*>(pointer);
    if (p + bytes > start && p < start + size) return false;  // overlaps device memory
  }
  return true;
}

}  // namespace

bool inject_failure(const char* call) {
  State& s = state();
  ++s.calls;
  if (s.fail_at == 0 || s.calls != s.fail_at) return false;
  s.failed = call;
  s.fail_at = 0;
  for (CUstream_st* stream : s.capturing) stream->capture_invalidated = true;  // as any error in a capture does
  return true;
}

void enqueue(cudaStream_t stream, std::function<void()> op) {
  if (stream && stream->capturing) {
    stream->captured.push_back(std::move(op));
  } else {
    state().activity.work_outside_graphs += 1;
    op();
  }
}

bool in_device_memory(const void* pointer, std::size_t bytes) {
  const auto& allocations = state().allocations;
  const char* p = static_cast<const char*>(pointer);
  auto after = allocations.upper_bound(p);
  if (after == allocations.begin()) return false;
  const auto& [start, size] = *std::prev(after);
  return p >= start && p + bytes <= start + size;
}

void invalidate_capture(cudaStream_t stream) {
  if (stream && stream->capturing) stream->capture_invalidated = true;
}

void launch_on_stream(dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t stream,
                      std::function<void()> kernel) {
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  const bool valid = grid.x >= 1 && grid.y >= 1 && grid.z >= 1 && grid.x <= 0x7fffffffu && grid.y <= 65535 &&
                     grid.z <= 65535 && block.x >= 1 && block.y >= 1 && block.z >= 1 && block.x <= 1024 &&
                     block.y <= 1024 && block.z <= 64 && threads <= 1024 && shared_bytes <= 48 * 1024;
  if (!valid) {
    fail(cudaErrorInvalidConfiguration);
    invalidate_capture(stream);
    return;
  }
  enqueue(stream, [grid, block, kernel = std::move(kernel)] { run_grid(grid, block, kernel); });
}

LiveResources live_resources() { return state().live; }
LiveResources& live_counts() { return state().live; }
Activity activity() { return state().activity; }
Activity& activity_counts() { return state().activity; }

std::string describe(const LiveResources& l) {
  return std::to_string(l.allocations) + " allocations (" + std::to_string(l.bytes) + " bytes), " +
         std::to_string(l.streams) + " streams, " + std::to_string(l.events) + " events, " +
         std::to_string(l.graphs) + " graphs, " + std::to_string(l.graph_execs) + " executable graphs, " +
         std::to_string(l.cublas_handles) + " cuBLAS handles";
}

void set_device_memory(std::size_t bytes) { state().device_bytes = bytes; }

void fail_call(std::size_t n) {
  State& s = state();
  s.fail_at = n == 0 ? 0 : s.calls + n;
  s.failed.clear();
}

std::size_t calls_made() { return state().calls; }
std::string failed_call() { return state().failed; }

}  // namespace cuda_on_host

using namespace cuda_on_host;

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureUnmatched: return "cudaErrorStreamCaptureUnmatched";
    case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "unrecognized error code";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched: return "capture was not initiated in this stream";
    case cudaErrorUnknown: return "unknown error (injected by the host emulation)";
  }
  return "unrecognized error code";
}

cudaError_t cudaGetLastError() {
  CUDA_ON_HOST_INJECT("cudaGetLastError");
  return std::exchange(state().last_error, cudaSuccess);
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return fail(cudaErrorInvalidValue);
  std::strcpy(prop->name, "host emulation");
  prop->major = 9;
  prop->minor = 0;
  return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, const void* function) {
  if (!function) return fail(cudaErrorInvalidValue);
  *attributes = cudaFuncAttributes{};
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** pointer, std::size_t bytes) {
  CUDA_ON_HOST_INJECT("cudaMalloc");
  if (unsafe_during_capture()) return fail(cudaErrorStreamCaptureUnsupported);
  State& s = state();
  *pointer = nullptr;
  if (bytes > s.device_bytes - s.live.bytes) return fail(cudaErrorMemoryAllocation);
  char* memory = static_cast<char*>(std::malloc(bytes == 0 ? 1 : bytes));
  if (!memory) return fail(cudaErrorMemoryAllocation);
  std::memset(memory, 0xff, bytes);  // NaN in every float and double: reading it before writing shows
  s.allocations[memory] = bytes;
  s.live.allocations += 1;
  s.live.bytes += bytes;
  *pointer = memory;
  return cudaSuccess;
}

cudaError_t cudaFree(void* pointer) {
  if (!pointer) return cudaSuccess;
  State& s = state();
  const auto it = s.allocations.find(static_cast<const char*>(pointer));
  if (it == s.allocations.end()) return fail(cudaErrorInvalidValue);
  s.live.allocations -= 1;
  s.live.bytes -= it->second;
  s.allocations.erase(it);
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* to, const void* from, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  CUDA_ON_HOST_INJECT("cudaMemcpyAsync");
  if (bytes == 0) return cudaSuccess;
  const bool to_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool from_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  const bool to_ok = to_device ? in_device_memory(to, bytes) : in_host_memory(to, bytes);
  const bool from_ok = from_device ? in_device_memory(from, bytes) : in_host_memory(from, bytes);
  if (kind == cudaMemcpyHostToHost || !to_ok || !from_ok) {
    invalidate_capture(stream);
    return fail(cudaErrorInvalidValue);
  }
  // Copies to or from pageable host memory cannot be captured.
  if (stream && stream->capturing && kind != cudaMemcpyDeviceToDevice) {
    invalidate_capture(stream);
    return fail(cudaErrorStreamCaptureUnsupported);
  }
  if (kind == cudaMemcpyDeviceToHost) state().activity.copies_to_host += 1;
  enqueue(stream, [=] { std::memcpy(to, from, bytes); });
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* to, int value, std::size_t bytes, cudaStream_t stream) {
  CUDA_ON_HOST_INJECT("cudaMemsetAsync");
  if (bytes == 0) return cudaSuccess;
  if (!in_device_memory(to, bytes)) {
    invalidate_capture(stream);
    return fail(cudaErrorInvalidValue);
  }
  enqueue(stream, [=] { std::memset(to, value, bytes); });
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  CUDA_ON_HOST_INJECT("cudaStreamCreateWithFlags");
  if (flags > cudaStreamNonBlocking) return fail(cudaErrorInvalidValue);
  *stream = new CUstream_st;
  state().live.streams += 1;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!stream) return fail(cudaErrorInvalidResourceHandle);
  if (stream->capturing) cuda_on_host::fatal("a stream was destroyed during capture");
  delete stream;
  state().live.streams -= 1;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  CUDA_ON_HOST_INJECT("cudaStreamSynchronize");
  if ((stream && stream->capturing) || unsafe_during_capture()) {
    invalidate_capture(stream);
    return fail(cudaErrorStreamCaptureUnsupported);
  }
  state().activity.synchronisations += 1;
  return cudaSuccess;  // work ran when it was enqueued
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  CUDA_ON_HOST_INJECT("cudaEventCreate");
  *event = new CUevent_st;
  state().live.events += 1;
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle);
  delete event;
  state().live.events -= 1;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  CUDA_ON_HOST_INJECT("cudaEventRecord");
  if (!event) return fail(cudaErrorInvalidResourceHandle);
  enqueue(stream, [event] {
    event->recorded = true;
    event->at = std::chrono::steady_clock::now();
  });
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t stop) {
  CUDA_ON_HOST_INJECT("cudaEventElapsedTime");
  if (!start || !stop || !start->recorded || !stop->recorded) return fail(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(stop->at - start->at).count();
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  CUDA_ON_HOST_INJECT("cudaStreamBeginCapture");
  if (!stream || stream->capturing) return fail(cudaErrorInvalidValue);  // the legacy stream cannot be captured
  stream->capturing = true;
  stream->capture_invalidated = false;
  stream->mode = mode;
  stream->captured.clear();
  state().capturing.push_back(stream);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  const bool injected = inject_failure("cudaStreamEndCapture");  // the capture ends all the same
  *graph = nullptr;
  if (!stream || !stream->capturing) return fail(cudaErrorStreamCaptureUnmatched);
  auto& capturing = state().capturing;
  capturing.erase(std::find(capturing.begin(), capturing.end(), stream));
  stream->capturing = false;
  auto work = std::move(stream->captured);
  stream->captured.clear();
  if (injected) return fail(cudaErrorUnknown);
  if (stream->capture_invalidated) return fail(cudaErrorStreamCaptureInvalidated);
  *graph = new CUgraph_st{std::move(work)};
  state().live.graphs += 1;
  state().activity.captures += 1;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags) {
  CUDA_ON_HOST_INJECT("cudaGraphInstantiate");
  if (!graph || flags != 0) return fail(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->work};
  state().live.graph_execs += 1;
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  CUDA_ON_HOST_INJECT("cudaGraphLaunch");
  if (!exec) return fail(cudaErrorInvalidResourceHandle);
  state().activity.graph_launches += 1;
  const auto replay = [exec] {
    for (const auto& op : exec->work) op();
  };
  if (stream && stream->capturing) {
    stream->captured.push_back(replay);
  } else {
    replay();  // not counted as work outside graphs
  }
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  if (!exec) return fail(cudaErrorInvalidResourceHandle);
  delete exec;
  state().live.graph_execs -= 1;
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  if (!graph) return fail(cudaErrorInvalidResourceHandle);
  delete graph;
  state().live.graphs -= 1;
  return cudaSuccess;
}
