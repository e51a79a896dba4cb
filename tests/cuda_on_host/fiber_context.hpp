// A fiber's saved registers and the switch between two fibers, for the
// emulation's threads of a block (block_fibers.cpp).
//
// Why not ucontext: glibc's swapcontext saves and restores the signal mask,
// a system call at every switch, and getcontext another at every start;
// AddressSanitizer's interceptor then clears the shadow of the whole new
// stack at every switch. The emulation switches at every __syncthreads and
// warp shuffle of every thread (and, under the racecheck, at the start and
// end of every thread), so those calls were most of its time. On x86-64 and
// aarch64 a switch here saves the callee-saved registers and the
// floating-point control word on the old stack and loads them from the new
// one: a few dozen instructions, no system call. Other processors keep
// ucontext.
#pragma once

#include <cstddef>

#if !defined(__x86_64__) && !defined(__aarch64__)
#include <ucontext.h>
#define CUDA_ON_HOST_UCONTEXT 1
#endif

namespace cuda_on_host {

struct FiberContext {
#ifdef CUDA_ON_HOST_UCONTEXT
  ucontext_t context{};
#else
  void* stack_pointer = nullptr;  // where the fiber's registers were saved
#endif
};

// Makes `fiber` start `entry` on the stack [stack, stack + bytes) when it is
// first switched to. `entry` must never return: it ends by switching away.
void start_fiber_context(FiberContext& fiber, char* stack, std::size_t bytes, void (*entry)());

// Saves the running fiber's registers in `from` and resumes `to`; returns
// when another switch resumes `from`.
void switch_fiber_context(FiberContext& from, FiberContext& to);

}  // namespace cuda_on_host
