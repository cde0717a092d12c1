#include <string>

#include "adapter/art_trainer_adapter.h"
#include "capi/plugin_entry.h"
#include "config/adapter_config.h"

namespace nat::plugin {

const char *info_json() {
  static const std::string info = make_info_json(
      ArtTrainerAdapter::kType, ArtTrainerAdapter::kBackend,
      "NAT trainer adapter for OpenPipe ART: validates and converts trajectory collections and trains "
      "them on an ART `art run` server (protocol dialects 0.4.x and 0.5.x).",
      adapter_config_schema());
  return info.c_str();
}

std::unique_ptr<TrainerAdapter> create_adapter(std::string_view config_json) {
  return std::make_unique<ArtTrainerAdapter>(parse_adapter_config(config_json, ArtTrainerAdapter::kType));
}

}  // namespace nat::plugin
