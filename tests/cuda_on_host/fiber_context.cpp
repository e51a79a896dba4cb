// The fibers' switch (fiber_context.hpp): a few lines of assembly per
// processor, which save what the calling convention says a function must
// keep and the floating-point control state, then load another fiber's.
#include "fiber_context.hpp"

#include <cstdint>
#include <cstring>

#ifdef CUDA_ON_HOST_UCONTEXT

namespace cuda_on_host {

void start_fiber_context(FiberContext& fiber, char* stack, std::size_t bytes, void (*entry)()) {
  getcontext(&fiber.context);
  fiber.context.uc_stack.ss_sp = stack;
  fiber.context.uc_stack.ss_size = bytes;
  fiber.context.uc_link = nullptr;
  makecontext(&fiber.context, entry, 0);
}

void switch_fiber_context(FiberContext& from, FiberContext& to) { swapcontext(&from.context, &to.context); }

}  // namespace cuda_on_host

#else

// cuda_on_host_switch_stack(void** save, void* load): pushes the registers
// onto the running stack, stores the stack pointer in *save, takes `load`
// as the stack pointer and pops the registers saved there, returning into
// the fiber that saved them (or, the first time, into its entry).
extern "C" void cuda_on_host_switch_stack(void** save, void* load);

#if defined(__x86_64__)
// System V: rbx, rbp, r12 to r15, and the x87 and SSE control words.
// Saved frame, from the stack pointer up: MXCSR and the x87 control word
// (8 bytes), r15, r14, r13, r12, rbx, rbp, the return address.
asm(R"(
  .text
  .p2align 4
  .globl cuda_on_host_switch_stack
  .hidden cuda_on_host_switch_stack
  .type cuda_on_host_switch_stack, @function
cuda_on_host_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size cuda_on_host_switch_stack, .-cuda_on_host_switch_stack
)");
#elif defined(__aarch64__)
// AAPCS64: x19 to x28, the frame pointer x29, the link register x30, the
// low halves of v8 to v15, and FPCR. Saved frame, 176 bytes from the stack
// pointer up: x19 ... x30 (96), d8 ... d15 (64), FPCR (8), padding (8).
asm(R"(
  .text
  .p2align 4
  .globl cuda_on_host_switch_stack
  .hidden cuda_on_host_switch_stack
  .type cuda_on_host_switch_stack, %function
cuda_on_host_switch_stack:
  sub sp, sp, #176
  stp x19, x20, [sp, #0]
  stp x21, x22, [sp, #16]
  stp x23, x24, [sp, #32]
  stp x25, x26, [sp, #48]
  stp x27, x28, [sp, #64]
  stp x29, x30, [sp, #80]
  stp d8, d9, [sp, #96]
  stp d10, d11, [sp, #112]
  stp d12, d13, [sp, #128]
  stp d14, d15, [sp, #144]
  mrs x9, fpcr
  str x9, [sp, #160]
  mov x9, sp
  str x9, [x0]
  mov sp, x1
  ldp x19, x20, [sp, #0]
  ldp x21, x22, [sp, #16]
  ldp x23, x24, [sp, #32]
  ldp x25, x26, [sp, #48]
  ldp x27, x28, [sp, #64]
  ldp x29, x30, [sp, #80]
  ldp d8, d9, [sp, #96]
  ldp d10, d11, [sp, #112]
  ldp d12, d13, [sp, #128]
  ldp d14, d15, [sp, #144]
  ldr x9, [sp, #160]
  msr fpcr, x9
  add sp, sp, #176
  ret
  .size cuda_on_host_switch_stack, .-cuda_on_host_switch_stack
)");
#endif

namespace cuda_on_host {

void start_fiber_context(FiberContext& fiber, char* stack, std::size_t bytes, void (*entry)()) {
  // The frame the switch pops, laid out as it pushes it, at the top of the
  // stack, so that `entry` starts as if called, with an aligned stack.
  const std::uintptr_t top = (reinterpret_cast<std::uintptr_t>(stack) + bytes) / 16 * 16;
  const std::uintptr_t entry_address = reinterpret_cast<std::uintptr_t>(entry);
#if defined(__x86_64__)
  // 8 bytes of control words, six registers, the return address into
  // entry, and a null return address for entry itself: entry then finds
  // the stack pointer 8 past a multiple of 16, as after a call.
  std::uint64_t* frame = reinterpret_cast<std::uint64_t*>(top - 72);
  std::uint32_t mxcsr = 0;
  std::uint16_t x87 = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(x87));
  std::memset(frame, 0, 72);
  std::memcpy(frame, &mxcsr, sizeof mxcsr);
  std::memcpy(reinterpret_cast<char*>(frame) + 4, &x87, sizeof x87);
  frame[7] = entry_address;
#else
  // x30 (the link register the switch returns through) is entry, x29 (the
  // frame pointer) null, so a backtrace ends there; the stack pointer after
  // the switch is the 16-aligned top.
  std::uint64_t* frame = reinterpret_cast<std::uint64_t*>(top - 176);
  std::uint64_t fpcr = 0;
  asm volatile("mrs %0, fpcr" : "=r"(fpcr));
  std::memset(frame, 0, 176);
  frame[11] = entry_address;
  frame[20] = fpcr;
#endif
  fiber.stack_pointer = frame;
}

void switch_fiber_context(FiberContext& from, FiberContext& to) {
  cuda_on_host_switch_stack(&from.stack_pointer, to.stack_pointer);
}

}  // namespace cuda_on_host

#endif
