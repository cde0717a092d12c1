#include "command_line/interrupt_signal.h"

#include <csignal>

namespace nat::host {
namespace {

volatile std::sig_atomic_t received_signal = 0;

void record_signal(int signal_number) { received_signal = signal_number; }

#ifdef _WIN32
// The C runtime's signal(): Ctrl-C is SIGINT, Ctrl-Break SIGBREAK; the
// handler is reset to the default before it runs, so it fires once.
using PreviousHandler = void (*)(int);
PreviousHandler previous_int = SIG_DFL;
PreviousHandler previous_break = SIG_DFL;
PreviousHandler previous_term = SIG_DFL;

void install_handlers() {
  previous_int = std::signal(SIGINT, record_signal);
  previous_break = std::signal(SIGBREAK, record_signal);
  previous_term = std::signal(SIGTERM, record_signal);
}

void restore_handlers() {
  std::signal(SIGINT, previous_int);
  std::signal(SIGBREAK, previous_break);
  std::signal(SIGTERM, previous_term);
}
#else
struct sigaction previous_int {};
struct sigaction previous_term {};

void install(int signal_number, struct sigaction *previous) {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(signal_number, &action, previous);
}

void install_handlers() {
  install(SIGINT, &previous_int);
  install(SIGTERM, &previous_term);
}

void restore_handlers() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}
#endif

}  // namespace

InterruptSignal::InterruptSignal() {
  received_signal = 0;
  install_handlers();
}

InterruptSignal::~InterruptSignal() { restore_handlers(); }

bool InterruptSignal::requested() const { return received_signal != 0; }

int InterruptSignal::signal_number() const { return received_signal; }

}  // namespace nat::host
