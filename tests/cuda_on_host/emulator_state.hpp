// Shared between the emulated runtime and the emulated cuBLAS.
#pragma once

#include <cstddef>
#include <functional>

#include "cuda_on_host.hpp"
#include "cuda_runtime.h"

namespace cuda_on_host {

// True when this call is the one chosen to fail (see fail_call).
bool inject_failure(const char* call);

// The counts live_resources() reports, for the functions that change them.
LiveResources& live_counts();
Activity& activity_counts();

// Runs `op` now, or appends it to the stream's capture.
void enqueue(cudaStream_t stream, std::function<void()> op);

// Whether [pointer, pointer + bytes) lies inside one device allocation.
bool in_device_memory(const void* pointer, std::size_t bytes);

// Reports an error of the running capture on `stream` (if any) so that
// cudaStreamEndCapture fails, as CUDA invalidates a capture on error.
void invalidate_capture(cudaStream_t stream);

// Runs every thread of every block of a kernel (block_fibers.cpp).
void run_grid(dim3 grid, dim3 block, const std::function<void()>& kernel);

// fatal(format, ...), the emulator's loud failure, is declared in cuda_runtime.h.

}  // namespace cuda_on_host
