// Several threads share one backend: three sessions train at once (float32
// and float64, a narrow and a wide network) while a fourth thread predicts,
// and each gets exactly the bits it gets alone. Used for the cpu backend
// (whose sessions take turns on one thread pool) and for cuda on a GPU.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "backprop/backprop.hpp"
#include "golden_file.hpp"

namespace backprop::testing {

inline void check_sessions_on_several_threads(const Backend& backend) {
  // 20000 samples: 10 chunks on the cpu at hidden 8, so every epoch goes
  // through its pool; hidden 8 and 33 take both cuda paths.
  const Dataset data = quadrant_data(20000, 2, 5);
  constexpr int kSessions = 3;
  auto start = [](int s) { return init_xavier({2, s == 2 ? 33u : 8u, 1}, 10 + s); };
  auto options = [](int s) {
    TrainOptions o;
    o.epochs = 12;
    o.lr = s == 2 ? 0.5 : 2.0;  // the wide network overshoots at 2
    o.precision = s == 1 ? Precision::f64 : Precision::f32;
    return o;
  };

  std::vector<TrainResult> alone(kSessions), together(kSessions);
  for (int s = 0; s < kSessions; ++s) alone[s] = train(backend, data, start(s), options(s));
  const auto predicted_alone = backend.predict(alone[0].params, data, Precision::f32);

  std::vector<double> predicted_together;
  std::vector<std::string> errors(kSessions + 1);
  std::vector<std::thread> threads;
  auto guarded = [&errors](int slot, auto work) {
    return [&errors, slot, work] {
      try {
        work();
      } catch (const std::exception& e) {
        errors[slot] = e.what();
      }
    };
  };
  for (int s = 0; s < kSessions; ++s) {
    threads.emplace_back(guarded(s, [&, s] { together[s] = train(backend, data, start(s), options(s)); }));
  }
  threads.emplace_back(guarded(kSessions, [&] {
    predicted_together = backend.predict(alone[0].params, data, Precision::f32);
  }));
  for (auto& t : threads) t.join();

  for (int s = 0; s <= kSessions; ++s) ASSERT_EQ(errors[s], "") << "thread " << s;
  for (int s = 0; s < kSessions; ++s) {
    EXPECT_EQ(alone[s].losses, together[s].losses) << "session " << s;
    EXPECT_EQ(alone[s].params.W1, together[s].params.W1) << "session " << s;
    EXPECT_EQ(alone[s].params.b2, together[s].params.b2) << "session " << s;
    EXPECT_LT(alone[s].losses.back(), alone[s].losses.front()) << "session " << s;
  }
  EXPECT_EQ(predicted_alone, predicted_together);
}

}  // namespace backprop::testing
