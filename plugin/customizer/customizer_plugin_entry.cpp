#include <string>

#include "capi/plugin_entry.h"
#include "customizer/customizer_config.h"
#include "customizer/customizer_trainer_adapter.h"

namespace nat::plugin {

const char *info_json() {
  static const std::string info = make_info_json(
      customizer::CustomizerTrainerAdapter::kType, customizer::CustomizerTrainerAdapter::kBackend,
      "NAT trainer adapter for NeMo Customizer DPO: uploads trajectory collections of DPO pairs as a dataset "
      "to "
      "the NeMo Data Store, starts a NeMo Customizer job, follows it and optionally deploys the model.",
      customizer::customizer_config_schema());
  return info.c_str();
}

std::unique_ptr<TrainerAdapter> create_adapter(std::string_view config_json) {
  return std::make_unique<customizer::CustomizerTrainerAdapter>(
      customizer::parse_customizer_config(config_json, customizer::CustomizerTrainerAdapter::kType));
}

}  // namespace nat::plugin
