// Reading a --config file: NAT's YAML, or JSON.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace nat::host {

// The config file as JSON. A `.json` file is parsed as strict JSON; anything
// else as YAML (NAT's own format, and a superset of JSON). Throws
// ConfigError, or FileError when the file cannot be read.
nlohmann::json read_config_document(const std::filesystem::path &path);

// The same for text already in memory; `source` names it in messages and its
// extension picks the parser.
nlohmann::json parse_config_document(std::string_view text, const std::string &source);

// nlohmann's exception text without its "[json.exception.x.y] " prefix and
// without the text a syntax error quotes ("; last read: '...'", which can be
// a secret such as an api key); the line, column and what was expected stay.
std::string describe_json_error(const nlohmann::json::exception &error);

}  // namespace nat::host
