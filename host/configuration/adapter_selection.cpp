#include "configuration/adapter_selection.h"

#include "configuration/config_error.h"

namespace nat::host {
namespace {

std::string entry_names(const nlohmann::json &adapters) {
  std::string names;
  for (const auto &[name, value] : adapters.items()) {
    (void)value;
    names += (names.empty() ? "" : ", ") + name;
  }
  return names;
}

// NAT's TypedBaseModel accepts `_type` and its YAML alias `type`.
nlohmann::json with_canonical_type(nlohmann::json config, const std::string &where) {
  if (!config.is_object()) {
    throw ConfigError(where + ": an adapter config must be a mapping, not " +
                      std::string(config.type_name()));
  }
  const bool has_type = config.contains("_type");
  const bool has_alias = config.contains("type");
  if (!has_type && !has_alias) {
    throw ConfigError(where +
                      ": missing _type (the name of the trainer adapter, e.g. "
                      "openpipe_art_trainer_adapter)");
  }
  if (has_type && has_alias && config["_type"] != config["type"]) {
    throw ConfigError(where + ": _type and its alias type disagree (" + config["_type"].dump() + " vs " +
                      config["type"].dump() + ")");
  }
  if (has_alias) {
    config["_type"] = config["type"];
    config.erase("type");
  }
  if (!config["_type"].is_string() || config["_type"].get<std::string>().empty()) {
    throw ConfigError(where + "._type: must be a non-empty string, not " + config["_type"].dump());
  }
  return config;
}

}  // namespace

AdapterSelection select_adapter(const nlohmann::json &document, const std::string &source,
                                const std::optional<std::string> &requested_entry) {
  if (!document.is_object()) {
    throw ConfigError(source + ": expected a mapping at the top level, found " +
                      std::string(document.type_name()));
  }
  AdapterSelection selection;

  if (!document.contains("trainer_adapters")) {
    if (!document.contains("_type") && !document.contains("type")) {
      throw ConfigError(
          source + ": neither a NAT config (no trainer_adapters: section) nor an adapter config (no _type)");
    }
    if (requested_entry) {
      throw ConfigError(source + ": --adapter " + *requested_entry +
                        " needs a NAT config with a trainer_adapters: section; this file is a single adapter "
                        "config");
    }
    selection.origin = source;
    selection.adapter_config = with_canonical_type(document, source);
    selection.finetuning = nlohmann::json::object();
  } else {
    const nlohmann::json &adapters = document["trainer_adapters"];
    if (!adapters.is_object() || adapters.empty()) {
      throw ConfigError(source +
                        ": trainer_adapters: must be a non-empty mapping of names to adapter configs");
    }
    const nlohmann::json *finetuning = nullptr;
    if (document.contains("finetuning") && !document["finetuning"].is_null()) {
      finetuning = &document["finetuning"];
      if (!finetuning->is_object()) {
        throw ConfigError(source + ": finetuning: must be a mapping, not " +
                          std::string(finetuning->type_name()));
      }
    }

    if (requested_entry) {
      if (!adapters.contains(*requested_entry)) {
        throw ConfigError(source + ": --adapter " + *requested_entry +
                          ": no such entry in trainer_adapters (has: " + entry_names(adapters) + ")");
      }
      selection.entry = *requested_entry;
    } else if (finetuning != nullptr && finetuning->contains("trainer_adapter") &&
               !(*finetuning)["trainer_adapter"].is_null()) {
      const nlohmann::json &named = (*finetuning)["trainer_adapter"];
      if (!named.is_string()) {
        throw ConfigError(source + ": finetuning.trainer_adapter: must be a string, not " + named.dump());
      }
      if (!adapters.contains(named.get<std::string>())) {
        throw ConfigError(source + ": finetuning.trainer_adapter names " + named.dump() +
                          ", which is not in trainer_adapters (has: " + entry_names(adapters) + ")");
      }
      selection.entry = named.get<std::string>();
    } else if (adapters.size() == 1) {
      selection.entry = adapters.begin().key();
    } else {
      throw ConfigError(source + ": trainer_adapters has several entries (" + entry_names(adapters) +
                        "); choose one with --adapter or finetuning.trainer_adapter");
    }

    selection.origin = source + ": trainer_adapters." + selection.entry;
    selection.adapter_config = with_canonical_type(adapters[selection.entry], selection.origin);
    selection.finetuning = finetuning != nullptr ? *finetuning : nlohmann::json::object();
  }

  selection.type = selection.adapter_config["_type"].get<std::string>();
  return selection;
}

}  // namespace nat::host
