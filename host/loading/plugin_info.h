// A plugin's info JSON (nat_trainer_adapter_plugin_info), checked and read
// without building a document.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nat::host {

// What loading needs from a plugin's info JSON.
struct PluginInfoSummary {
  bool is_object = false;
  // The top-level members whose value is a string, unescaped, in order. Of
  // duplicate keys the last wins, as in nlohmann::json; a key whose last
  // value is not a string is absent.
  std::vector<std::pair<std::string, std::string>> strings;
};

// Checks that `text` is exactly one JSON value as nlohmann::json::parse
// accepts it, and collects its top-level string members: nlohmann's own
// parser, driven through its SAX interface, so that no document is built
// (building one per plugin was a third of the CPU time of discovering 100
// plugins). std::nullopt when it is not valid JSON; `error`, when given,
// then receives nlohmann's message.
std::optional<PluginInfoSummary> scan_plugin_info(std::string_view text, std::string *error = nullptr);

// The info a plugin returned, checked as loading requires it: not NULL,
// valid JSON, an object, with a non-empty "name" string. Throws
// PluginLoadError saying which.
PluginInfoSummary read_plugin_info(const char *text);

// The value of a top-level string member, "" when absent.
std::string info_string(const PluginInfoSummary &summary, std::string_view key);

}  // namespace nat::host
