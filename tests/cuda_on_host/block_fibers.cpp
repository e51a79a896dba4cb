// The threads of a block as fibers on the calling thread. Each runs until it
// reaches __syncthreads, a warp shuffle or its end. Lanes that wait at a
// shuffle go on once every lane of their mask is there; when all threads
// wait at the barrier, the next round starts. A block that neither
// synchronises nor touches shared memory needs no fibers: once the first
// block of a launch on a host thread has run so, the others run one thread
// after another on the caller's stack, which is what keeps large grids
// cheap.
//
// Under ThreadSanitizer this is a host-side racecheck: every thread of a
// block that runs in fibers is a fiber of its own, and switching fibers
// orders nothing, so ThreadSanitizer reports two threads of a block that
// touch one location, one of them writing, unless a __syncthreads lies
// between them (a warp shuffle orders no memory, as on a GPU). Blocks run
// on four threads of their own (BlockWorkers), dealt out afresh at each
// launch, so it reports two blocks that race in device memory too.
// Launches are ordered one after another, as on one stream. A kernel
// without barriers, shuffles or shared memory has its threads checked
// against each other in the first block each host thread runs (every
// block runs the same code, so a collision that its indices make shows
// there), and its later blocks against the other host threads' blocks.
#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "emulator_state.hpp"
#include "fiber_context.hpp"

#if defined(__SANITIZE_ADDRESS__)  // GCC
#define CUDA_ON_HOST_ASAN 1
#elif defined(__has_feature)        // Clang
#if __has_feature(address_sanitizer)
#define CUDA_ON_HOST_ASAN 1
#endif
#endif
#ifdef CUDA_ON_HOST_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
// In a ThreadSanitizer build CMake defines CUDA_ON_HOST_RACECHECK and leaves
// this file (alone) uninstrumented: the scheduler and the fibers share its
// bookkeeping, which they order by switching, not in ways ThreadSanitizer
// sees.
#ifdef CUDA_ON_HOST_RACECHECK
#include <sanitizer/tsan_interface.h>
#endif

namespace cuda_on_host {
namespace {

// AddressSanitizer must be told when the stack changes under it.
void start_switch(void** fake_stack, const void* bottom, std::size_t size) {
#ifdef CUDA_ON_HOST_ASAN
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#else
  (void)fake_stack, (void)bottom, (void)size;
#endif
}
void finish_switch(void* fake_stack, const void** bottom, std::size_t* size) {
#ifdef CUDA_ON_HOST_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, bottom, size);
#else
  (void)fake_stack, (void)bottom, (void)size;
#endif
}

// ThreadSanitizer's view of the fibers (see the top of this file). The
// tokens are addresses whose release and acquire order the fibers: a host
// thread's scheduler hands each block it runs what came before it on that
// thread through block_start, takes what the block did back through
// block_end, and the threads of a block meet at barrier[g % 2] at the
// block's g-th __syncthreads (two, so that a thread already past barrier g
// releases into the other).
struct RaceTokens {
  char block_start, block_end, barrier[2];
} thread_local race_tokens;
#ifdef CUDA_ON_HOST_RACECHECK
constexpr bool kRaceCheck = true;
void* new_race_fiber() { return __tsan_create_fiber(0); }
void delete_race_fiber(void* fiber) {
  if (fiber != nullptr) __tsan_destroy_fiber(fiber);
}
void* current_race_fiber() { return __tsan_get_current_fiber(); }
void name_race_fiber(void* fiber, const char* name) { __tsan_set_fiber_name(fiber, name); }
// Called just before the switch, as ThreadSanitizer asks.
void switch_race_fiber(void* to) { __tsan_switch_to_fiber(to, __tsan_switch_to_fiber_no_sync); }
void release(char& token) { __tsan_release(&token); }
void acquire(char& token) { __tsan_acquire(&token); }
#else
constexpr bool kRaceCheck = false;
void* new_race_fiber() { return nullptr; }
void delete_race_fiber(void*) {}
void* current_race_fiber() { return nullptr; }
void name_race_fiber(void*, const char*) {}
void switch_race_fiber(void*) {}
void release(char&) {}
void acquire(char&) {}
#endif

constexpr std::size_t kFiberStackBytes = std::size_t{256} << 10;

struct Fiber {
  enum class State { ready, at_barrier, at_shuffle, done };
  FiberContext context;
  std::unique_ptr<char[]> stack{new char[kFiberStackBytes]};  // left uninitialised
  State state = State::ready;
  void* fake_stack = nullptr;
  // ThreadSanitizer's fiber: made for a launch, when the fiber first runs
  // in it, and ended with the launch (release_race_fibers); null without
  // ThreadSanitizer.
  std::unique_ptr<void, void (*)(void*)> race_fiber{nullptr, delete_race_fiber};
  // At a shuffle: its mask, lane mask and value; then the partner's value.
  unsigned shuffle_mask = 0;
  int lane_mask = 0;
  std::uint64_t shuffle_value = 0, shuffle_result = 0;
};

struct BlockRunner {
  std::vector<Fiber> fibers;  // grown to the largest block seen
  FiberContext scheduler;
  const void* scheduler_stack = nullptr;
  std::size_t scheduler_stack_bytes = 0;
  const std::function<void()>* kernel = nullptr;
  unsigned current = 0;
  unsigned barriers_completed = 0;  // in the running block
  void* scheduler_race_fiber = nullptr;
  bool in_fibers = false;
  bool synchronised = false;  // the running block waited at a barrier or shuffle
  bool shared_memory = false;  // or declared a __shared__ array
};

thread_local BlockRunner runner;
bool reverse_order = false;  // see run_in_reverse_order

// The i-th of n in the order of the schedule.
unsigned scheduled(unsigned i, unsigned n) { return reverse_order ? n - 1 - i : i; }

dim3 thread_index(unsigned t, dim3 block) { return dim3(t % block.x, t / block.x % block.y, t / (block.x * block.y)); }

void fiber_main() {
  BlockRunner& r = runner;
  finish_switch(nullptr, &r.scheduler_stack, &r.scheduler_stack_bytes);
  acquire(race_tokens.block_start);
  (*r.kernel)();
  release(race_tokens.block_end);
  Fiber& self = r.fibers[r.current];
  self.state = Fiber::State::done;
  start_switch(nullptr, r.scheduler_stack, r.scheduler_stack_bytes);  // this fiber is finished
  switch_race_fiber(r.scheduler_race_fiber);
  switch_fiber_context(self.context, r.scheduler);
  fatal("a finished fiber was resumed");
}

constexpr unsigned kWarp = 32;

// Completes the shuffles whose lanes have all arrived: each lane's result
// is its partner's value, taken before any of them runs on. Returns
// whether any did; fails when a lane of a waiting shuffle can never come
// (it exited, waits at the barrier, or waits with another mask).
bool complete_shuffles(unsigned threads) {
  BlockRunner& r = runner;
  bool completed = false;
  for (unsigned t = 0; t < threads; ++t) {
    const Fiber& f = r.fibers[t];
    if (f.state != Fiber::State::at_shuffle) continue;
    const unsigned warp = t / kWarp * kWarp, mask = f.shuffle_mask;
    bool all_here = true;
    for (unsigned lane = 0; lane < kWarp; ++lane) {
      if ((mask >> lane & 1u) == 0) continue;
      const unsigned other = warp + lane;
      if (other >= threads) fatal("__shfl_xor_sync in block (%u, %u, %u): mask %#x names lane %u, past the block's "
                                  "%u threads", blockIdx.x, blockIdx.y, blockIdx.z, mask, lane, threads);
      const Fiber& o = r.fibers[other];
      if (o.state == Fiber::State::ready) {
        all_here = false;  // still running this round
      } else if (o.state != Fiber::State::at_shuffle || o.shuffle_mask != mask) {
        fatal("__shfl_xor_sync in block (%u, %u, %u): thread %u waits with mask %#x, but thread %u %s", blockIdx.x,
              blockIdx.y, blockIdx.z, t, mask, other,
              o.state == Fiber::State::done ? "has exited"
              : o.state == Fiber::State::at_barrier ? "waits at __syncthreads"
                                                     : "waits at a shuffle with another mask");
      }
    }
    if (!all_here) continue;
    for (unsigned lane = 0; lane < kWarp; ++lane) {
      if (mask >> lane & 1u) {
        Fiber& o = r.fibers[warp + lane];
        o.shuffle_result = r.fibers[warp + (lane ^ static_cast<unsigned>(o.lane_mask))].shuffle_value;
      }
    }
    for (unsigned lane = 0; lane < kWarp; ++lane) {
      if (mask >> lane & 1u) r.fibers[warp + lane].state = Fiber::State::ready;
    }
    completed = true;
  }
  return completed;
}

// Returns whether any thread reached a barrier or a shuffle, or declared a
// __shared__ array: whether the launch's other blocks need fibers too.
bool run_block_in_fibers(unsigned threads) {
  BlockRunner& r = runner;
  if (r.fibers.size() < threads) r.fibers.resize(threads);
  for (unsigned t = 0; t < threads; ++t) {
    Fiber& f = r.fibers[t];
    start_fiber_context(f.context, f.stack.get(), kFiberStackBytes, fiber_main);
    f.state = Fiber::State::ready;
    if (kRaceCheck) {
      const dim3 t3 = thread_index(t, blockDim);
      char name[96];
      std::snprintf(name, sizeof name, "block (%u, %u, %u) thread (%u, %u, %u)", blockIdx.x, blockIdx.y, blockIdx.z,
                    t3.x, t3.y, t3.z);
      if (!f.race_fiber) f.race_fiber.reset(new_race_fiber());
      name_race_fiber(f.race_fiber.get(), name);
    }
  }
  r.in_fibers = true;
  r.synchronised = false;
  r.shared_memory = false;
  r.barriers_completed = 0;
  r.scheduler_race_fiber = current_race_fiber();
  release(race_tokens.block_start);
  for (;;) {
    for (unsigned i = 0; i < threads; ++i) {
      const unsigned t = scheduled(i, threads);
      Fiber& f = r.fibers[t];
      if (f.state != Fiber::State::ready) continue;
      r.current = t;
      threadIdx = thread_index(t, blockDim);
      void* fake_stack = nullptr;
      start_switch(&fake_stack, f.stack.get(), kFiberStackBytes);
      switch_race_fiber(f.race_fiber.get());
      switch_fiber_context(r.scheduler, f.context);
      finish_switch(fake_stack, nullptr, nullptr);
    }
    unsigned waiting = 0, shuffling = 0, done = 0;
    for (unsigned t = 0; t < threads; ++t) {
      if (r.fibers[t].state == Fiber::State::at_barrier) ++waiting;
      if (r.fibers[t].state == Fiber::State::at_shuffle) ++shuffling;
      if (r.fibers[t].state == Fiber::State::done) ++done;
    }
    if (shuffling != 0) {
      // No fiber is ready, so every lane that could arrive has.
      if (!complete_shuffles(threads)) fatal("__shfl_xor_sync: lanes wait for partners that never arrive");
      continue;
    }
    if (waiting == 0) break;
    if (done != 0) {
      fatal("block (%u, %u, %u): %u threads wait at __syncthreads while %u have exited", blockIdx.x, blockIdx.y,
            blockIdx.z, waiting, done);
    }
    for (unsigned t = 0; t < threads; ++t) r.fibers[t].state = Fiber::State::ready;
    ++r.barriers_completed;
  }
  r.in_fibers = false;
  acquire(race_tokens.block_end);
  return r.synchronised || r.shared_memory;
}

void run_block_in_order(unsigned threads) {
  if (kRaceCheck) {  // the host thread's name in a report
    const dim3 last = thread_index(threads - 1, blockDim);
    char name[128];
    std::snprintf(name, sizeof name, "block (%u, %u, %u) thread (0, 0, 0) to (%u, %u, %u), in order", blockIdx.x,
                  blockIdx.y, blockIdx.z, last.x, last.y, last.z);
    name_race_fiber(current_race_fiber(), name);
  }
  for (unsigned i = 0; i < threads; ++i) {
    threadIdx = thread_index(scheduled(i, threads), blockDim);
    (*runner.kernel)();
  }
}

// Whether block b is the calling thread's, `worker` of `workers`. One
// worker takes every block; more take them by a hash of the launch's number
// and the block's (splitmix64's finaliser), a fresh deal at each launch.
struct BlockDeal {
  unsigned worker = 0, workers = 1;
  std::uint64_t launch = 0;
  bool mine(unsigned b) const {
    if (workers == 1) return true;
    std::uint64_t h = launch << 32 | b;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
    return (h ^ (h >> 31)) % workers == worker;
  }
};

// Runs the grid's blocks that `deal` gives the calling thread, in the
// schedule's order.
void run_blocks(dim3 grid, dim3 block, const std::function<void()>& kernel, BlockDeal deal) {
  runner.kernel = &kernel;
  gridDim = grid;
  blockDim = block;
  const unsigned threads = block.x * block.y * block.z;
  bool needs_fibers = true;
  const unsigned blocks = grid.x * grid.y * grid.z;
  for (unsigned i = 0; i < blocks; ++i) {
    const unsigned b = scheduled(i, blocks);
    if (!deal.mine(b)) continue;
    blockIdx = dim3(b % grid.x, b / grid.x % grid.y, b / (grid.x * grid.y));
    if (needs_fibers) {
      needs_fibers = run_block_in_fibers(threads);
    } else {
      run_block_in_order(threads);
    }
  }
  runner.kernel = nullptr;
  // ThreadSanitizer's fibers end with the launch. Its vector clocks are as
  // long as the largest thread number it has handed out, and it hands out
  // ended threads' numbers again: fibers kept for the process (a worker's
  // largest block, 1024 threads, on each of four workers) made every
  // clock 4096 long, and every barrier and block start cost as much.
  if (kRaceCheck) {
    for (Fiber& f : runner.fibers) f.race_fiber.reset();
  }
}

// Under the racecheck, the blocks of a launch run on kWorkers = 4 threads,
// so that ThreadSanitizer sees blocks on different workers unordered, as
// they are on a GPU, and reports two that touch one location of device
// memory, one of them writing. Each worker has its own __shared__ arrays
// (thread_local statics) and its own fibers, and runs its blocks one after
// another, so blocks on one worker are ordered and a race between them goes
// unseen. The blocks are therefore dealt out afresh at every launch
// (BlockDeal): two given blocks share a worker in a launch with chance 1/4,
// so a race between just those two escapes L launches with chance 4^-L,
// and a mistake that makes many pairs of blocks collide (an index taken
// modulo too small a count) is all but sure to be reported at its first
// launch.
//
// The workers and the launching thread meet through atomics in this
// uninstrumented file, which ThreadSanitizer does not see, and order only
// what a stream orders, through two tokens: the launch's start (the
// launching thread releases it, each worker acquires it before its blocks)
// and its end (each worker releases it after its blocks, the launching
// thread acquires it once all are done). A mutex would order more: a
// worker that took it after another had finished its blocks would be
// ordered after those blocks, and blind to races with them.
class BlockWorkers {
 public:
  static constexpr unsigned kWorkers = 4;

  BlockWorkers() {
    for (unsigned w = 0; w < kWorkers; ++w) threads_.emplace_back([this, w] { serve(w); });
  }
  ~BlockWorkers() {
    stopping_.store(true);
    launches_.fetch_add(1);
    launches_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  void run(dim3 grid, dim3 block, const std::function<void()>& kernel) {
    job_ = Job{grid, block, &kernel};
    finished_.store(0);
    release(launch_start_);
    launches_.fetch_add(1);
    launches_.notify_all();
    for (unsigned finished; (finished = finished_.load()) != kWorkers;) finished_.wait(finished);
    acquire(launch_end_);
  }

 private:
  struct Job {
    dim3 grid, block;
    const std::function<void()>* kernel = nullptr;
  };

  void serve(unsigned w) {
    for (unsigned seen = 0;; ++seen) {
      launches_.wait(seen);
      if (stopping_.load()) return;
      acquire(launch_start_);
      run_blocks(job_.grid, job_.block, *job_.kernel, BlockDeal{w, kWorkers, seen});
      release(launch_end_);
      if (finished_.fetch_add(1) + 1 == kWorkers) finished_.notify_one();
    }
  }

  Job job_;
  char launch_start_ = 0, launch_end_ = 0;  // ThreadSanitizer's tokens
  std::atomic<unsigned> launches_{0}, finished_{0};
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;  // last: started once the rest is ready
};

}  // namespace

void run_grid(dim3 grid, dim3 block, const std::function<void()>& kernel) {
  if (kRaceCheck) {
    static BlockWorkers workers;
    workers.run(grid, block, kernel);
  } else {
    run_blocks(grid, block, kernel, BlockDeal{});
  }
}

void run_in_reverse_order(bool reverse) { reverse_order = reverse; }

void fatal(const char* format, ...) {
  std::fprintf(stderr, "cuda_on_host: ");
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fprintf(stderr, "\n");
  std::abort();
}

}  // namespace cuda_on_host

namespace cuda_on_host {
namespace {

// The fiber of the calling thread, which must run in fibers to wait at
// `what` (a barrier or a shuffle, named in the error).
Fiber& running_fiber(const char* what) {
  BlockRunner& r = runner;
  if (!r.in_fibers) {
    fatal("%s in block (%u, %u, %u), but the launch's first block never synchronised, so this one runs without "
          "fibers",
          what, blockIdx.x, blockIdx.y, blockIdx.z);
  }
  return r.fibers[r.current];
}

// `self` stops in `state` and hands control to the scheduler until it is
// ready again.
void wait_in_scheduler(Fiber& self, Fiber::State state) {
  BlockRunner& r = runner;
  r.synchronised = true;
  self.state = state;
  char& barrier = race_tokens.barrier[r.barriers_completed % 2];
  if (state == Fiber::State::at_barrier) release(barrier);
  start_switch(&self.fake_stack, r.scheduler_stack, r.scheduler_stack_bytes);
  switch_race_fiber(r.scheduler_race_fiber);
  switch_fiber_context(self.context, r.scheduler);
  finish_switch(self.fake_stack, &r.scheduler_stack, &r.scheduler_stack_bytes);
  if (state == Fiber::State::at_barrier) acquire(barrier);
}

}  // namespace

std::uint64_t shuffle_xor(unsigned mask, std::uint64_t bits, int lane_mask) {
  Fiber& self = running_fiber("__shfl_xor_sync");
  const unsigned lane = runner.current % kWarp;
  if ((mask >> lane & 1u) == 0 || lane_mask < 0 || lane_mask >= static_cast<int>(kWarp) ||
      (mask >> (lane ^ static_cast<unsigned>(lane_mask)) & 1u) == 0) {
    fatal("__shfl_xor_sync: lane %u with mask %#x and lane mask %d (the caller and its partner must be in the mask)",
          lane, mask, lane_mask);
  }
  self.shuffle_mask = mask;
  self.lane_mask = lane_mask;
  self.shuffle_value = bits;
  wait_in_scheduler(self, Fiber::State::at_shuffle);
  return self.shuffle_result;
}

}  // namespace cuda_on_host

namespace cuda_on_host {

void note_shared_memory() { runner.shared_memory = true; }

}  // namespace cuda_on_host

void __syncthreads() {
  using namespace cuda_on_host;
  wait_in_scheduler(running_fiber("__syncthreads"), Fiber::State::at_barrier);
}
