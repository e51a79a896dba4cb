// The CPU backend's thread pool: every task runs once, on a worker of the
// pool, an exception reaches the caller, and the pool stays usable after it.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "thread_pool.hpp"

namespace backprop::cpu {
namespace {

TEST(ThreadPool, RunsEveryIndexOnceOnAWorkerOfThePool) {
  for (const unsigned threads : {1u, 2u, 3u, 8u}) {
    ThreadPool pool(threads);
    ASSERT_EQ(pool.size(), threads);
    for (const std::size_t count : {0u, 1u, 2u, 7u, 1000u}) {
      SCOPED_TRACE(std::to_string(threads) + " threads, " + std::to_string(count) + " tasks");
      const auto runs = std::make_unique<std::atomic<int>[]>(count + 1);
      std::atomic<unsigned> largest_worker = 0;
      pool.parallel_for(count, [&](std::size_t index, unsigned worker) {
        runs[index].fetch_add(1);
        unsigned seen = largest_worker.load();
        while (worker > seen && !largest_worker.compare_exchange_weak(seen, worker)) {
        }
      });
      for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(runs[i].load(), 1) << "index " << i;
      EXPECT_EQ(runs[count].load(), 0);
      EXPECT_LT(largest_worker.load(), threads);
    }
  }
}

// Back-to-back calls reuse the sleeping or spinning workers: a wake-up lost
// between two calls would hang here, a task of the last call run twice would
// show in the count.
TEST(ThreadPool, ManyShortCallsInARow) {
  ThreadPool pool(3);
  std::atomic<long> total = 0;
  for (int call = 0; call < 2000; ++call) {
    pool.parallel_for(3, [&](std::size_t index, unsigned) { total += static_cast<long>(index) + 1; });
  }
  EXPECT_EQ(total.load(), 2000L * 6);
}

TEST(ThreadPool, RethrowsATasksExceptionAfterTheOtherTasksFinish) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> runs(64);
  const auto throw_at_some = [&](std::size_t index, unsigned) {
    runs[index] += 1;
    if (index % 10 == 3) throw std::runtime_error("task " + std::to_string(index));
  };
  EXPECT_THROW(pool.parallel_for(runs.size(), throw_at_some), std::runtime_error);
  for (std::size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "index " << i;

  // The failure does not stick to the pool.
  std::atomic<int> after = 0;
  pool.parallel_for(100, [&](std::size_t, unsigned) { ++after; });
  EXPECT_EQ(after.load(), 100);
}

// With one thread, or one task, the pool runs inline: the exception is the
// task's own, on the caller's thread.
TEST(ThreadPool, RethrowsInlineToo) {
  ThreadPool single(1);
  const auto throw_at_four = [](std::size_t index, unsigned) {
    if (index == 4) throw std::logic_error("last");
  };
  EXPECT_THROW(single.parallel_for(5, throw_at_four), std::logic_error);
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(1, [](std::size_t, unsigned) { throw std::logic_error("only"); }),
               std::logic_error);
}

}  // namespace
}  // namespace backprop::cpu
