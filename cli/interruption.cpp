#include "interruption.hpp"

#include <unistd.h>

#include <csignal>

#include "output_file.hpp"

namespace backprop::cli {
namespace {

std::atomic<bool> stop{false};
std::atomic<bool> stoppable{false};
volatile std::sig_atomic_t signal_number = 0;
static_assert(std::atomic<bool>::is_always_lock_free, "a signal handler may only touch lock-free atomics");

extern "C" void on_signal(int sig) {
  if (stoppable.load() && !stop.load()) {
    signal_number = sig;
    stop.store(true);
    return;
  }
  remove_uncommitted_outputs();
  ::_exit(128 + sig);
}

}  // namespace

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;  // a read or write the signal lands in goes on
  sigemptyset(&action.sa_mask);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

StoppableWork::StoppableWork() { stoppable.store(true); }
StoppableWork::~StoppableWork() { stoppable.store(false); }

const std::atomic<bool>& stop_requested() { return stop; }

int stop_signal() { return signal_number; }

}  // namespace backprop::cli
