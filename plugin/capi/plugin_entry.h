// What a plugin of this tree provides to the shared C boundary: its info
// JSON and a factory. Each plugin .so links exactly one definition of these.
#pragma once

#include <memory>
#include <string_view>

#include "adapter/trainer_adapter.h"

namespace nat::plugin {

const char *info_json();
std::unique_ptr<TrainerAdapter> create_adapter(std::string_view config_json);

}  // namespace nat::plugin
