#include <string>

#include "capi/plugin_entry.h"
#include "export/jsonl_export_adapter.h"

#ifndef NAT_TRAINER_ADAPTER_VERSION
#define NAT_TRAINER_ADAPTER_VERSION "0.0.0"
#endif

namespace nat::plugin {

const char *info_json() {
  static const std::string info = std::string("{\"name\":\"") + JsonlExportAdapter::kType + "\",\"backend\":\"" +
                                  JsonlExportAdapter::kBackend + "\",\"version\":\"" NAT_TRAINER_ADAPTER_VERSION
                                  "\",\"abi\":\"1.0\",\"description\":\"Offline export: validates and converts "
                                  "trajectory collections like the ART adapter and writes them as JSON lines datasets "
                                  "of ART trajectory groups, one file per submit.\",\"config_schema\":" +
                                  export_config_schema() + "}";
  return info.c_str();
}

std::unique_ptr<TrainerAdapter> create_adapter(std::string_view config_json) {
  return std::make_unique<JsonlExportAdapter>(parse_export_config(config_json));
}

}  // namespace nat::plugin
