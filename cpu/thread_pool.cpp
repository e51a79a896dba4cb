#include "thread_pool.hpp"

#include <chrono>
#include <string>
#include <system_error>

#include "backprop/error.hpp"

namespace backprop::cpu {

namespace {
// Training calls parallel_for once per epoch, microseconds apart. Polling
// that long before sleeping on a condition variable saves a futex sleep and
// wake-up per epoch and thread (tens of microseconds on a virtual machine);
// an idle pool stops polling after it.
constexpr auto kPollTime = std::chrono::microseconds(100);

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}
}  // namespace

// True once ready() holds, false if kPollTime passed first.
template <class Ready>
bool ThreadPool::poll(Ready ready) {
  const auto until = std::chrono::steady_clock::now() + kPollTime;
  do {
    for (int spin = 0; spin < 64; ++spin) {
      if (ready()) return true;
      relax();
    }
  } while (std::chrono::steady_clock::now() < until);
  return ready();
}

ThreadPool::ThreadPool(unsigned threads) {
  workers_.reserve(threads > 0 ? threads - 1 : 0);
  try {
    for (unsigned w = 1; w < threads; ++w) workers_.emplace_back([this, w] { work(w); });
  } catch (const std::system_error& e) {
    // Out of threads or memory for their stacks: the workers already started
    // wait on members about to be destroyed, so stop them before unwinding.
    const std::size_t started = workers_.size() + 1;
    stop_workers();
    throw Error(ErrorKind::device, "cannot start " + std::to_string(threads) + " CPU threads (" + std::to_string(started) +
                " started): " + e.what());
  }
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks(unsigned worker) {
  std::unique_lock lock(mutex_);
  while (next_ < count_) {
    const std::size_t index = next_++;
    lock.unlock();
    try {
      (*task_)(index, worker);
    } catch (...) {
      lock.lock();
      if (!error_) error_ = std::current_exception();
      lock.unlock();
    }
    lock.lock();
    if (++finished_ == count_) done_.notify_all();
  }
}

void ThreadPool::work(unsigned worker) {
  std::size_t seen = 0;
  while (true) {
    const auto woken = [&] { return stopping_.load() || generation_.load() != seen; };
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!poll(woken)) {
      lock.lock();
      wake_.wait(lock, woken);
    } else {
      lock.lock();
    }
    if (stopping_) return;
    seen = generation_;
    lock.unlock();
    run_tasks(worker);
  }
}

void ThreadPool::run_on_workers(std::size_t count, const Task& task) {
  // The workers serve one call at a time: the others wait here for theirs.
  std::lock_guard turn(turn_);
  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    count_ = count;
    next_ = 0;
    finished_ = 0;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  run_tasks(0);
  const auto all_done = [&] { return finished_.load() == count; };
  poll(all_done);
  std::unique_lock lock(mutex_);
  done_.wait(lock, all_done);
  task_ = nullptr;
  count_ = 0;
  if (error_) std::rethrow_exception(error_);
}

}  // namespace backprop::cpu
