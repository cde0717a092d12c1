// What a plugin of this tree provides to the shared C boundary: its info
// JSON and a factory. Each plugin .so links exactly one definition of these.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "adapter/trainer_adapter.h"

namespace nat::plugin {

const char *info_json();
std::unique_ptr<TrainerAdapter> create_adapter(std::string_view config_json);

// The info JSON every plugin of this tree gives: its name (NAT _type), backend,
// description and config schema, with the tree's version and the ABI version
// of nat/trainer_adapter.h. Defined next to the C boundary.
std::string make_info_json(std::string_view name, std::string_view backend, std::string_view description,
                           const std::string &config_schema);

}  // namespace nat::plugin
