// SIGINT and SIGTERM (and SIGHUP). While training, the first one asks the
// training loop to stop at its next safe point (TrainOptions::stop), so
// that the command writes what it finished and exits 128 + the signal; a
// second one, or one at any other time, removes the uncommitted output
// files and ends the process at once with that status. Existing files are
// never touched either way (output_file.hpp). SIGPIPE is ignored, so a
// closed standard output is a write error, not a silent death.
#pragma once

#include <atomic>

namespace backprop::cli {

// Installs the handlers; once, at the start of main.
void install_signal_handlers();

// For the time it lives, a first signal sets stop_requested() instead of
// ending the process.
class StoppableWork {
 public:
  StoppableWork();
  ~StoppableWork();
  StoppableWork(const StoppableWork&) = delete;
  StoppableWork& operator=(const StoppableWork&) = delete;
};

// Set by the first signal during stoppable work; for TrainOptions::stop.
const std::atomic<bool>& stop_requested();

// The signal that asked to stop (SIGINT 2, SIGTERM 15), 0 if none.
int stop_signal();

}  // namespace backprop::cli
