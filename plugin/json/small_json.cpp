#include "json/small_json.h"

#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "json/scanner.h"

namespace nat::json {

namespace {

// Walks already validated text and throws at the first key repeated within
// one object. Iterative: the depth was checked by the first scan.
void refuse_duplicate_keys(std::string_view text, const char *what, int max_depth) {
  Scanner s(text, max_depth);
  struct Level {
    bool object;
    std::set<std::string, std::less<>> keys;
  };
  std::vector<Level> stack;
  auto open = [&](Kind k) {
    if (k == Kind::Object) {
      s.begin_object();
      stack.push_back({true, {}});
    } else {
      s.begin_array();
      stack.push_back({false, {}});
    }
  };
  Kind first = s.peek();
  if (first != Kind::Object && first != Kind::Array) return;
  open(first);
  while (!stack.empty()) {
    bool more;
    if (stack.back().object) {
      size_t at = s.offset();
      std::string_view key;
      more = s.next_key(key);
      if (more && !stack.back().keys.emplace(key).second) {
        std::string shown = nat::text::printable_text(key);
        if (shown.size() > 100) shown = shown.substr(0, nat::text::utf8_cut_point(shown, 100)) + "...";
        throw_invalid(std::string(what) + ": duplicate key \"" + shown + "\" at byte " + std::to_string(at));
      }
    } else {
      more = s.next_element();
    }
    if (!more) {
      stack.pop_back();
      continue;
    }
    Kind v = s.peek();
    if (v == Kind::Object || v == Kind::Array)
      open(v);
    else
      s.skip_value();
  }
}

}  // namespace

nlohmann::json parse_checked(std::string_view text, const char *what, int max_depth,
                             DuplicateKeys duplicates) {
  try {
    Scanner s(text, max_depth);
    s.skip_value();
    s.expect_end();
    if (duplicates == DuplicateKeys::Refuse) refuse_duplicate_keys(text, what, max_depth);
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
