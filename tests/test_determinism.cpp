// The same inputs give bit-identical losses and parameters whatever the
// thread count: chunks and segments depend on N alone. Nor does sharing one
// backend between threads change a bit.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "backprop/backprop.hpp"
#include "golden_file.hpp"
#include "print_values.hpp"

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

INSTANTIATE_TEST_SUITE_P(Precisions, Determinism, ::testing::Values(Precision::f32, Precision::f64),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// Several threads train sessions of one cpu backend at once (they share its
// thread pool) and one predicts meanwhile: each gets the bits it gets alone.
TEST(SharedBackend, SessionsOnSeveralThreadsAtOnceGiveTheirOwnBits) {
  BackendConfig config;
  config.threads = 2;
  const auto backend = make_backend("cpu", config);
  // 20000 samples, hidden 8: 10 chunks, so every epoch goes through the pool.
  const Dataset data = testing::quadrant_data(20000, 2, 5);
  TrainOptions o;
  o.epochs = 12;
  o.lr = 2.0;
  constexpr int kSessions = 3;
  auto start = [](int s) { return init_xavier({2, 8, 1}, 10 + s); };
  auto precision = [](int s) { return s == 1 ? Precision::f64 : Precision::f32; };

  std::vector<TrainResult> alone(kSessions), together(kSessions);
  for (int s = 0; s < kSessions; ++s) {
    TrainOptions mine = o;
    mine.precision = precision(s);
    alone[s] = train(*backend, data, start(s), mine);
  }
  const auto predicted_alone = backend->predict(alone[0].params, data, Precision::f32);

  std::vector<double> predicted_together;
  std::vector<std::thread> threads;
  for (int s = 0; s < kSessions; ++s) {
    threads.emplace_back([&, s] {
      TrainOptions mine = o;
      mine.precision = precision(s);
      together[s] = train(*backend, data, start(s), mine);
    });
  }
  threads.emplace_back([&] { predicted_together = backend->predict(alone[0].params, data, Precision::f32); });
  for (auto& t : threads) t.join();

  for (int s = 0; s < kSessions; ++s) {
    EXPECT_EQ(alone[s].losses, together[s].losses) << "session " << s;
    EXPECT_EQ(alone[s].params.W1, together[s].params.W1) << "session " << s;
    EXPECT_EQ(alone[s].params.b2, together[s].params.b2) << "session " << s;
    EXPECT_LT(alone[s].losses.back(), alone[s].losses.front()) << "session " << s;
  }
  EXPECT_EQ(predicted_alone, predicted_together);
}

}  // namespace
}  // namespace backprop
