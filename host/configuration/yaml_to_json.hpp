// YAML documents as JSON values, scalars typed by the YAML 1.2 core schema.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace YAML {
class Node;
}

namespace nat::host {

// Parses one YAML document. `source` names it in error messages (a file
// name). An empty document gives null. Throws ConfigError.
nlohmann::json parse_yaml_document(std::string_view text, const std::string& source);

// Converts a parsed YAML node. Plain scalars are resolved with the YAML 1.2
// core schema (null, bool, int, float, else string); quoted and block
// scalars stay strings; `<<` merge keys are applied. Throws ConfigError
// naming `source`, the key path and the line of a value JSON cannot hold.
nlohmann::json yaml_to_json(const YAML::Node& node, const std::string& source);

// The JSON value of one plain (unquoted, untagged) scalar under the YAML 1.2
// core schema; nullopt for .inf and .nan, which JSON cannot hold.
std::optional<nlohmann::json> resolve_plain_scalar(const std::string& scalar);

}  // namespace nat::host
