// The C ABI of a loaded plugin as a table of function pointers.
#pragma once

#include <nat/trainer_adapter.h>

namespace nat::host {

// Every function of ABI 1.0, resolved by name from one plugin. The types are
// taken from the header's declarations, so a changed signature there changes
// them here. The header's functions are never called directly by the host:
// it links no plugin.
//
// Every slot is set once a plugin is loaded, except the optional ones below
// the required ones: those are null when the plugin does not export them
// (older plugins and examples/minimal_adapter), and such a plugin is not
// refused.
struct AbiFunctions {
  decltype(&nat_trainer_adapter_abi_version) abi_version = nullptr;
  decltype(&nat_trainer_adapter_plugin_info) plugin_info = nullptr;
  decltype(&nat_trainer_adapter_error_code) error_code = nullptr;
  decltype(&nat_trainer_adapter_error_message) error_message = nullptr;
  decltype(&nat_trainer_adapter_error_free) error_free = nullptr;
  decltype(&nat_trainer_adapter_buffer_data) buffer_data = nullptr;
  decltype(&nat_trainer_adapter_buffer_size) buffer_size = nullptr;
  decltype(&nat_trainer_adapter_buffer_free) buffer_free = nullptr;
  decltype(&nat_trainer_adapter_create) create = nullptr;
  decltype(&nat_trainer_adapter_destroy) destroy = nullptr;
  decltype(&nat_trainer_adapter_initialize) initialize = nullptr;
  decltype(&nat_trainer_adapter_is_healthy) is_healthy = nullptr;
  decltype(&nat_trainer_adapter_submit) submit = nullptr;
  decltype(&nat_trainer_adapter_status) status = nullptr;
  decltype(&nat_trainer_adapter_wait_until_complete) wait_until_complete = nullptr;
  decltype(&nat_trainer_adapter_cancel) cancel = nullptr;
  decltype(&nat_trainer_adapter_jobs) jobs = nullptr;
  decltype(&nat_trainer_adapter_next_event) next_event = nullptr;
  decltype(&nat_trainer_adapter_log_progress) log_progress = nullptr;
  decltype(&nat_trainer_adapter_convert) convert = nullptr;

  // Optional: null when the plugin does not export it.
  decltype(&nat_trainer_adapter_resubmit) resubmit = nullptr;
};

}  // namespace nat::host
