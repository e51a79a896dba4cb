// What the tests can ask of the host emulation of CUDA (cuda_runtime.h):
// the resources alive now, the device's memory size, and a failure injected
// into one API call, so every error path of the backend can be walked.
#pragma once

#include <cstddef>
#include <string>

namespace cuda_on_host {

struct LiveResources {
  std::size_t allocations = 0, bytes = 0, streams = 0, events = 0, graphs = 0, graph_execs = 0,
              cublas_handles = 0;
  bool operator==(const LiveResources&) const = default;
};
LiveResources live_resources();
std::string describe(const LiveResources& live);

// What the host has asked of the device so far, summed since the start.
struct Activity {
  std::size_t synchronisations = 0;    // cudaStreamSynchronize
  std::size_t copies_to_host = 0;      // cudaMemcpyAsync device to host
  std::size_t captures = 0;            // graphs captured (cudaStreamEndCapture that succeeded)
  std::size_t graph_launches = 0;      // cudaGraphLaunch
  std::size_t work_outside_graphs = 0; // kernels, GEMMs, copies, memsets, event records run on their own
  std::size_t gemms = 0;               // cublasSgemm and cublasDgemm calls
  std::size_t tf32_gemms = 0;          // cublasSgemm calls on a handle in CUBLAS_TF32_TENSOR_OP_MATH
};
Activity activity();

// An allocation that would take the device past this many bytes fails with
// cudaErrorMemoryAllocation. The default is 16 GiB.
void set_device_memory(std::size_t bytes);

// Runs the blocks of each grid, and the threads of each block between
// barriers, last first. A kernel whose result depends on that order (a
// missing barrier, a block reading what another writes) gives other bits.
void run_in_reverse_order(bool reverse);

// The hardware's exp2 (ex2.approx.ftz.f32) as the emulation computes it:
// exp2f, subnormal results flushed to zero, and then, if a test asks, the
// result moved by up to `ulps` units in its last place: by an amount drawn
// from the input's bits and `seed`, so that the same input always moves
// the same way, or always down, or always up. CUDA documents exp2f, whose
// core it is, as within 2 ulp; how the instruction errs is not documented.
// Set it while no kernel runs.
enum class Ex2Error { none, random, low, high };
void model_ex2_error(Ex2Error error, double ulps = 2, unsigned seed = 1);

// Counts the calls that report errors (cudaMalloc, cudaMemcpyAsync,
// cublasSgemm, ...: every call but the destroy and free functions and the
// queries of names). fail_call(n) makes the n-th call from now fail, once,
// with cudaErrorUnknown or CUBLAS_STATUS_EXECUTION_FAILED; a failed launch
// shows up at the next cudaGetLastError. fail_call(0) turns that off.
void fail_call(std::size_t n);
std::size_t calls_made();
// The name of the call that was made to fail, or "" if none was.
std::string failed_call();

}  // namespace cuda_on_host
