#include "adapter/adapter_error.h"

#include <nat/trainer_adapter.h>

namespace nat::host {

std::string adapter_code_name(std::int32_t code) {
  switch (code) {
    case NAT_TRAINER_ADAPTER_OK:
      return "OK";
    case NAT_TRAINER_ADAPTER_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case NAT_TRAINER_ADAPTER_NOT_FOUND:
      return "NOT_FOUND";
    case NAT_TRAINER_ADAPTER_ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case NAT_TRAINER_ADAPTER_FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case NAT_TRAINER_ADAPTER_UNAVAILABLE:
      return "UNAVAILABLE";
    case NAT_TRAINER_ADAPTER_DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case NAT_TRAINER_ADAPTER_CANCELLED:
      return "CANCELLED";
    case NAT_TRAINER_ADAPTER_INTERNAL:
      return "INTERNAL";
    default:
      return "code " + std::to_string(code);
  }
}

AdapterError::AdapterError(std::int32_t code, const std::string &message, const std::string &plugin,
                           const std::string &operation)
    : std::runtime_error(plugin + ": " + operation + ": " + adapter_code_name(code) + ": " + message),
      code_(code),
      message_(message) {}

}  // namespace nat::host
