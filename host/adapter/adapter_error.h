// An error returned through the C ABI, as a C++ exception of the host.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace nat::host {

// The name of a nat_trainer_adapter_code ("INVALID_ARGUMENT"); codes newer
// than this host are "code <n>".
std::string adapter_code_name(std::int32_t code);

// What an adapter function reported. what() reads
// "<plugin>: <operation>: <CODE>: <message>".
class AdapterError : public std::runtime_error {
 public:
  AdapterError(std::int32_t code, const std::string &message, const std::string &plugin,
               const std::string &operation);

  std::int32_t code() const { return code_; }
  const std::string &message() const { return message_; }

 private:
  std::int32_t code_;
  std::string message_;
};

}  // namespace nat::host
