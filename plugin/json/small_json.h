// Small JSON documents (configs, job references, metrics, server replies)
// parsed into nlohmann::json after the scanner has checked them, so the
// nesting depth is bounded and the UTF-8 is valid before nlohmann recurses.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace nat::json {

// Throws nat::Error(InvalidArgument) "<what>: invalid JSON at byte N: ...".
nlohmann::json parse_checked(std::string_view text, const char *what, int max_depth = 64);

// Dumps without throwing on invalid UTF-8 (replaced by U+FFFD).
std::string dump(const nlohmann::json &value);

}  // namespace nat::json
