#include "command_line/interrupt_signal.h"

#include <csignal>

namespace nat::host {
namespace {

volatile std::sig_atomic_t received_signal = 0;
struct sigaction previous_int {};
struct sigaction previous_term {};

void record_signal(int signal_number) { received_signal = signal_number; }

void install(int signal_number, struct sigaction *previous) {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(signal_number, &action, previous);
}

}  // namespace

InterruptSignal::InterruptSignal() {
  received_signal = 0;
  install(SIGINT, &previous_int);
  install(SIGTERM, &previous_term);
}

InterruptSignal::~InterruptSignal() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

bool InterruptSignal::requested() const { return received_signal != 0; }

int InterruptSignal::signal_number() const { return received_signal; }

}  // namespace nat::host
