// The same inputs give bit-identical losses and parameters whatever the
// thread count: chunks and segments depend on N alone. Nor does sharing one
// backend between threads change a bit.
#include <gtest/gtest.h>

#include "backprop/backprop.hpp"
#include "concurrent_sessions.hpp"
#include "golden_file.hpp"
#include "print_values.hpp"
#include "restarted_session.hpp"

namespace backprop {
namespace {

TrainResult run(unsigned threads, Precision precision) {
  BackendConfig config;
  config.threads = threads;
  const auto backend = make_backend("cpu", config);
  // 200000 samples, hidden 8: 98 chunks of 2048 in 49 segments of two.
  const Dataset data = testing::quadrant_data(200000, 2, 3);
  TrainOptions o;
  o.epochs = 15;
  o.lr = 2.0;
  o.precision = precision;
  return train(*backend, data, init_xavier({2, 8, 1}, 4), o);
}

class Determinism : public ::testing::TestWithParam<Precision> {};

TEST_P(Determinism, ThreadCountDoesNotChangeAnyBit) {
  const TrainResult one = run(1, GetParam());
  for (unsigned threads : {2u, 7u}) {
    const TrainResult many = run(threads, GetParam());
    EXPECT_EQ(one.losses, many.losses) << threads << " threads";
    EXPECT_EQ(one.params.W1, many.params.W1) << threads << " threads";
    EXPECT_EQ(one.params.b1, many.params.b1) << threads << " threads";
    EXPECT_EQ(one.params.W2, many.params.W2) << threads << " threads";
    EXPECT_EQ(one.params.b2, many.params.b2) << threads << " threads";
  }
  EXPECT_LT(one.losses.back(), one.losses.front());  // it trained
}

TEST_P(Determinism, RepeatedRunsAreIdentical) {
  EXPECT_EQ(run(2, GetParam()).losses, run(2, GetParam()).losses);
}

// A new session from the parameters a stopped one handed out continues the
// run bit for bit (restarted_session.hpp): the narrow kernels on one chunk,
// and the chunked kernels on a pool of threads.
TEST_P(Determinism, ARestartedSessionContinuesTheRun) {
  BackendConfig config;
  config.threads = 2;
  const auto cpu = make_backend("cpu", config);
  testing::check_restart_continues_the_run(*cpu, 1000, 4, GetParam());
  testing::check_restart_continues_the_run(*cpu, 5000, 64, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Precisions, Determinism, ::testing::Values(Precision::f32, Precision::f64),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// Sessions of one cpu backend on several threads at once (they share its
// thread pool) get the bits they get alone (concurrent_sessions.hpp).
TEST(SharedBackend, SessionsOnSeveralThreadsAtOnceGiveTheirOwnBits) {
  BackendConfig config;
  config.threads = 2;
  testing::check_sessions_on_several_threads(*make_backend("cpu", config));
}

}  // namespace
}  // namespace backprop
