// A fixed set of worker threads that run the tasks of one parallel_for at a
// time. Which thread runs a task never changes what the task computes, so
// results do not depend on the thread count. Calls from several threads take
// turns (the sessions of one backend share its pool); a task must not call
// parallel_for on its own pool.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace backprop::cpu {

class ThreadPool {
 public:
  // threads: how many run tasks, the calling thread included (at least 1).
  // Throws backprop::Error when the system cannot start that many.
  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // Calls task(index, worker) for every index in [0, count), worker < size(),
  // and returns when all are done. The first exception thrown is rethrown.
  template <class F>
  void parallel_for(std::size_t count, F&& task) {
    // One task, or no workers: run inline, without a std::function.
    if (workers_.empty() || count <= 1) {
      for (std::size_t i = 0; i < count; ++i) task(i, 0u);
      return;
    }
    run_on_workers(count, Task(std::ref(task)));
  }

 private:
  using Task = std::function<void(std::size_t index, unsigned worker)>;
  void run_on_workers(std::size_t count, const Task& task);
  void stop_workers();
  void work(unsigned worker);
  void run_tasks(unsigned worker);
  template <class Ready>
  static bool poll(Ready ready);

  std::vector<std::thread> workers_;
  std::mutex turn_;   // held by the one call the workers serve
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  // Written under mutex_; the atomics are also polled without it.
  const Task* task_ = nullptr;
  std::size_t count_ = 0;
  std::size_t next_ = 0;
  std::atomic<std::size_t> finished_ = 0;
  std::atomic<std::size_t> generation_ = 0;
  std::atomic<bool> stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace backprop::cpu
