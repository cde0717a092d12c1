#include <string>

#include "adapter/art_trainer_adapter.h"
#include "capi/plugin_entry.h"
#include "config/adapter_config.h"

#ifndef NAT_TRAINER_ADAPTER_VERSION
#define NAT_TRAINER_ADAPTER_VERSION "0.0.0"
#endif

namespace nat::plugin {

const char *info_json() {
  static const std::string info = std::string("{\"name\":\"") + ArtTrainerAdapter::kType + "\",\"backend\":\"" +
                                  ArtTrainerAdapter::kBackend + "\",\"version\":\"" NAT_TRAINER_ADAPTER_VERSION
                                  "\",\"abi\":\"1.0\",\"description\":\"NAT trainer adapter for OpenPipe ART: "
                                  "validates and converts trajectory collections and trains them on an ART `art run` "
                                  "server (protocol dialects 0.4.x and 0.5.x).\",\"config_schema\":" +
                                  adapter_config_schema() + "}";
  return info.c_str();
}

std::unique_ptr<TrainerAdapter> create_adapter(std::string_view config_json) {
  return std::make_unique<ArtTrainerAdapter>(parse_adapter_config(config_json, ArtTrainerAdapter::kType));
}

}  // namespace nat::plugin
