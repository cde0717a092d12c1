#include "json/small_json.h"

#include <string>

#include "adapter/error.h"
#include "json/scanner.h"

namespace nat::json {

nlohmann::json parse_checked(std::string_view text, const char *what, int max_depth) {
  try {
    Scanner s(text, max_depth);
    s.skip_value();
    s.expect_end();
  } catch (const SyntaxError &e) {
    throw_invalid(std::string(what) + ": " + e.what());
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const std::exception &e) {
    throw_invalid(std::string(what) + ": " + e.what());
  }
}

std::string dump(const nlohmann::json &value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace nat::json
