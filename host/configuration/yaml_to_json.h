// YAML documents as JSON values, scalars typed by the YAML 1.2 core schema.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace YAML {
class Node;
}

namespace nat::host {

// Parses one YAML document. `source` names it in error messages (a file
// name). An empty document gives null. Throws ConfigError.
nlohmann::json parse_yaml_document(std::string_view text, const std::string &source);

// Limits of a converted document: nesting, values (nodes, counted once per
// place an alias puts them) and bytes of keys and scalars, also counted
// after alias expansion. A config is far below them; an alias bomb or a
// self-referencing alias is refused with a ConfigError.
constexpr std::size_t kMaxYamlDepth = 64;
constexpr std::size_t kMaxYamlValues = 100000;
constexpr std::size_t kMaxYamlBytes = 16u << 20;

// Converts a parsed YAML node. Plain scalars are resolved with the YAML 1.2
// core schema (null, bool, int, float, else string); quoted and block
// scalars stay strings; `<<` merge keys are applied. Throws ConfigError
// naming `source`, the key path and the line of a value JSON cannot hold,
// of a duplicate key, of a cycle, or where a limit above is passed.
nlohmann::json yaml_to_json(const YAML::Node &node, const std::string &source);

// The JSON value of one plain (unquoted, untagged) scalar under the YAML 1.2
// core schema; nullopt for .inf and .nan, which JSON cannot hold.
std::optional<nlohmann::json> resolve_plain_scalar(const std::string &scalar);

}  // namespace nat::host
