// The C ABI of a loaded plugin as a table of function pointers, and its
// resolution by the plugin's ABI version. Shared by the host and the benchmark.
#pragma once

#include <nat/trainer_adapter.h>

#include <cstdint>

#include "platform/symbols.h"

namespace nat::host {

// Every function of the header's list (NAT_TRAINER_ADAPTER_FUNCTIONS); a slot
// is named as the function without its nat_trainer_adapter_ prefix. The types
// are the header's declarations, so a changed signature there changes them
// here. The header's functions are never called directly: the host links no
// plugin.
struct AbiFunctions {
#define NAT_HOST_ABI_SLOT(minor, ret, name, params) decltype(&nat_trainer_adapter_##name) name = nullptr;
  NAT_TRAINER_ADAPTER_FUNCTIONS(NAT_HOST_ABI_SLOT)
#undef NAT_HOST_ABI_SLOT
};

// The minor whose functions a loader may use with a plugin reporting
// abi_version (same major): the plugin's, or the loader's own when the plugin
// is newer (a newer plugin is used as the loader knows it).
inline unsigned usable_abi_minor(std::uint32_t abi_version) {
  const unsigned plugin_minor = abi_version & 0xffffu;
  return plugin_minor < NAT_TRAINER_ADAPTER_ABI_MINOR ? plugin_minor : NAT_TRAINER_ADAPTER_ABI_MINOR;
}

inline bool abi_function_expected(unsigned since_minor, unsigned usable_minor) {
  return since_minor <= usable_minor;
}

// Resolves every function the plugin's ABI version promises (every function
// of a minor up to usable_abi_minor) in library (dlsym, GetProcAddress); the later ones
// stay null, so a 1.0 plugin has no resubmit and no spooled. Nothing is
// probed: a promised function that is missing is the plugin's fault. Returns
// the name of the first missing one, or nullptr when all are there.
inline const char *resolve_abi_functions(void *library, std::uint32_t abi_version, AbiFunctions &functions) {
  const unsigned usable = usable_abi_minor(abi_version);
#define NAT_HOST_ABI_RESOLVE(minor, ret, name, params)                                 \
  if (abi_function_expected(minor, usable)) {                                          \
    void *address = platform::find_symbol(library, "nat_trainer_adapter_" #name);      \
    if (address == nullptr) return "nat_trainer_adapter_" #name;                       \
    functions.name = reinterpret_cast<decltype(&nat_trainer_adapter_##name)>(address); \
  } else {                                                                             \
    functions.name = nullptr;                                                          \
  }
  NAT_TRAINER_ADAPTER_FUNCTIONS(NAT_HOST_ABI_RESOLVE)
#undef NAT_HOST_ABI_RESOLVE
  return nullptr;
}

}  // namespace nat::host
