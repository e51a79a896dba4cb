// The CPU backend's thread pool: every task runs once, on a worker of the
// pool, an exception reaches the caller, and the pool stays usable after it.
// Several threads may call it at once (sessions of one backend share it).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "backprop/error.hpp"
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

// Sessions of one backend share its pool, so calls may come from several
// threads at once: each call still runs each of its indices once, and no two
// of its tasks hold the same worker index at the same time (that index picks
// the task's scratch memory).
TEST(ThreadPool, CallsFromSeveralThreadsAtOnce) {
  ThreadPool pool(3);
  constexpr int kCallers = 4, kCalls = 300;
  std::vector<std::string> failures(kCallers);
  std::vector<std::thread> callers;
  for (int caller = 0; caller < kCallers; ++caller) {
    callers.emplace_back([&, caller] {
      for (int call = 0; call < kCalls && failures[caller].empty(); ++call) {
        const std::size_t count = 1 + static_cast<std::size_t>(call * 7 + caller) % 40;
        std::vector<std::atomic<int>> runs(count);
        std::atomic<bool> busy[3] = {false, false, false};
        std::atomic<int> bad_worker = -1;
        pool.parallel_for(count, [&](std::size_t index, unsigned worker) {
          runs[index] += 1;
          if (worker >= 3 || busy[worker].exchange(true)) {
            bad_worker = static_cast<int>(worker);
            return;
          }
          std::this_thread::yield();
          busy[worker] = false;
        });
        for (std::size_t i = 0; i < count; ++i) {
          if (runs[i].load() != 1) failures[caller] = "index " + std::to_string(i) + " ran " +
                                                      std::to_string(runs[i].load()) + " times";
        }
        if (bad_worker.load() != -1) failures[caller] = "worker " + std::to_string(bad_worker.load()) + " shared";
      }
    });
  }
  for (auto& t : callers) t.join();
  for (int caller = 0; caller < kCallers; ++caller) EXPECT_EQ(failures[caller], "") << "caller " << caller;
}

// A system that cannot start the threads asked for (here: no address space
// left for their stacks) gets an Error naming how many, and the workers
// already started are stopped: destroying the pool's members under waiting
// workers used to hang. Run in a child process, which may limit itself.
TEST(ThreadPool, TooManyThreadsForTheSystemIsAnError) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's own address-space reservations defeat the limit this test sets";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto start_with_little_memory = [] {
    alarm(30);  // a hang ends the child with SIGALRM, failing the test
    long pages = 0;
    if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
      std::fclose(statm);
    }
    if (pages <= 0) std::_Exit(4);
    // Room for a few 8 MiB thread stacks beyond what the process maps now.
    const rlimit limit{static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (48 << 20),
                       RLIM_INFINITY};
    if (setrlimit(RLIMIT_AS, &limit) != 0) std::_Exit(5);
    try {
      ThreadPool pool(200);
    } catch (const Error& e) {
      const std::string message = e.what();
      std::_Exit(message.find("cannot start 200 CPU threads") != std::string::npos ? 0 : 2);
    }
    std::_Exit(3);  // all 200 started: the limit did not bite
  };
  EXPECT_EXIT(start_with_little_memory(), ::testing::ExitedWithCode(0), "");
#endif
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
