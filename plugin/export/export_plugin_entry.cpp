#include <string>

#include "capi/plugin_entry.h"
#include "export/jsonl_export_adapter.h"

namespace nat::plugin {

const char *info_json() {
  static const std::string info = make_info_json(
      JsonlExportAdapter::kType, JsonlExportAdapter::kBackend,
      "Offline export: validates and converts trajectory collections like the ART adapter and writes "
      "them as JSON lines datasets of ART trajectory groups, one file per submit.",
      export_config_schema());
  return info.c_str();
}

std::unique_ptr<TrainerAdapter> create_adapter(std::string_view config_json) {
  return std::make_unique<JsonlExportAdapter>(parse_export_config(config_json));
}

}  // namespace nat::plugin
