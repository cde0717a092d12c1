// Turning Ctrl-C into a request to cancel, once.
#pragma once

namespace nat::host {

// While alive, SIGINT and SIGTERM (and Ctrl-Break on Windows) only set a flag (polled by whoever follows
// a job, which then cancels it). Each handler fires once: a second Ctrl-C
// ends the process the default way, for when cancelling hangs. The previous
// handlers come back on destruction. One instance at a time.
class InterruptSignal {
 public:
  InterruptSignal();
  ~InterruptSignal();
  InterruptSignal(const InterruptSignal &) = delete;
  InterruptSignal &operator=(const InterruptSignal &) = delete;

  bool requested() const;
  // The signal that arrived, 0 if none.
  int signal_number() const;
};

}  // namespace nat::host
