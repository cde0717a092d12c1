// The one exception type the adapter's C++ code throws. The C boundary turns
// it into a nat_trainer_adapter_error with the same code and message.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace nat {

// Values match nat_trainer_adapter_code in the public header.
enum class ErrorCode : int32_t {
  Ok = 0,
  InvalidArgument = 1,
  NotFound = 2,
  AlreadyExists = 3,
  FailedPrecondition = 4,
  Unavailable = 5,
  DeadlineExceeded = 6,
  Cancelled = 7,
  Internal = 8,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string &message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

[[noreturn]] inline void throw_invalid(const std::string &message) { throw Error(ErrorCode::InvalidArgument, message); }

}  // namespace nat
