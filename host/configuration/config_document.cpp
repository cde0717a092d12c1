#include "configuration/config_document.hpp"

#include <algorithm>
#include <cctype>

#include "configuration/config_error.hpp"
#include "configuration/yaml_to_json.hpp"
#include "files/text_file.hpp"

namespace nat::host {
namespace {

bool has_json_extension(const std::string& source) {
  std::string extension = std::filesystem::path(source).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".json";
}

}  // namespace

std::string describe_json_error(const nlohmann::json::exception& error) {
  std::string text = error.what();
  if (!text.empty() && text.front() == '[') {
    std::size_t end = text.find("] ");
    if (end != std::string::npos) {
      text.erase(0, end + 2);
    }
  }
  return text;
}

nlohmann::json parse_config_document(std::string_view text, const std::string& source) {
  if (has_json_extension(source)) {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw ConfigError(source + ": invalid JSON: " + describe_json_error(e));
    }
  }
  return parse_yaml_document(text, source);
}

nlohmann::json read_config_document(const std::filesystem::path& path) {
  return parse_config_document(read_text_file(path), path.string());
}

}  // namespace nat::host
