// Small JSON documents (configs, job references, metrics, server replies)
// parsed into nlohmann::json after the scanner has checked them, so the
// nesting depth is bounded and the UTF-8 is valid before nlohmann recurses.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace nat::json {

// Whether an object may repeat a key. nlohmann keeps the last value of a
// repeated key; Refuse makes it an error, as the collection path does for
// the keys it reads.
enum class DuplicateKeys { Allow, Refuse };

// Throws nat::Error(InvalidArgument) "<what>: invalid JSON at byte N: ...",
// "<what>: nesting deeper than N levels", or, with DuplicateKeys::Refuse,
// "<what>: duplicate key \"k\" at byte N" (in an object at any depth).
nlohmann::json parse_checked(std::string_view text, const char *what, int max_depth = 64,
                             DuplicateKeys duplicates = DuplicateKeys::Allow);

// Dumps without throwing on invalid UTF-8 (replaced by U+FFFD).
std::string dump(const nlohmann::json &value);

}  // namespace nat::json
