// A training run stopped, its parameters handed out, and a new session
// started from them (what --params-csv and --init-csv do between two runs of
// the command line) continues the run bit for bit: the parameters are all
// of a run's state, none of it kept in another form in a session; and the
// loss of a session that has not trained is the run's next loss. Used for
// the cpu backend, the CUDA emulation and cuda on a GPU.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backprop/backprop.hpp"
#include "random_data.hpp"

namespace backprop::testing {

inline void check_restart_continues_the_run(const Backend& backend, std::size_t samples, std::size_t hidden,
                                            Precision precision, std::size_t epochs = 6) {
  SCOPED_TRACE(std::to_string(samples) + " samples, hidden " + std::to_string(hidden) + ", " +
               std::string(to_string(precision)));
  const Dataset data = random_data(samples, 2, 29);
  const Parameters initial = init_xavier({2, hidden, 1}, 5);
  constexpr double lr = 0.5;
  const auto whole = backend.start(data, initial, precision);
  const std::vector<double> all = whole->run_epochs(2 * epochs, lr);

  const auto first = backend.start(data, initial, precision);
  first->run_epochs(epochs, lr);
  // What `backprop evaluate` prints: a fresh session's loss, before any
  // update, is the loss the run logs at its next epoch.
  EXPECT_EQ(backend.start(data, first->parameters(), precision)->gradients().loss, all[epochs]);
  const auto second = backend.start(data, first->parameters(), precision);
  EXPECT_EQ(second->run_epochs(epochs, lr), std::vector<double>(all.begin() + epochs, all.end()));

  const Parameters a = whole->parameters(), b = second->parameters();
  EXPECT_EQ(a.W1, b.W1);
  EXPECT_EQ(a.b1, b.b1);
  EXPECT_EQ(a.W2, b.W2);
  EXPECT_EQ(a.b2, b.b2);
  EXPECT_NE(a.W1, initial.W1);  // it trained
}

}  // namespace backprop::testing
