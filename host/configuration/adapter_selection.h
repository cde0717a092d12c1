// Which trainer adapter a config asks for, with what config and run config.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace nat::host {

struct AdapterSelection {
  // The NAT `_type`: the name of the plugin to load.
  std::string type;
  // The `trainer_adapters` key it came from; empty for a file that is one
  // adapter config.
  std::string entry;
  // What nat_trainer_adapter_create() receives: the entry with `_type` set
  // (NAT's YAML alias `type` folded into it).
  nlohmann::json adapter_config;
  // What nat_trainer_adapter_initialize() receives: the `finetuning:`
  // section (NAT's FinetuneConfig), {} when the file has none.
  nlohmann::json finetuning;
  // Where the selection came from, for messages: "config.yml:
  // trainer_adapters.openpipe_trainer_adapter".
  std::string origin;
};

// Picks the adapter from a config document (see read_config_document):
// - a NAT config (it has `trainer_adapters:`): `requested_entry` when given,
//   else `finetuning.trainer_adapter`, else the only entry;
// - a single adapter config (a top-level `_type` or `type`), which takes no
//   `requested_entry`.
// `source` names the file in messages. Throws ConfigError.
AdapterSelection select_adapter(const nlohmann::json &document, const std::string &source,
                                const std::optional<std::string> &requested_entry);

}  // namespace nat::host
