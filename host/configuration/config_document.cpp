#include "configuration/config_document.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>
#include <vector>

#include "configuration/config_error.h"
#include "configuration/yaml_to_json.h"
#include "files/text_file.h"

namespace nat::host {
namespace {

bool has_json_extension(const std::string &source) {
  std::string extension = std::filesystem::path(source).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".json";
}

// Refuses a key repeated within one object (nlohmann would keep the last
// value silently), naming its path, as YAML configs, the plugins' JSON
// configs and collections do.
class DuplicateKeyCheck {
 public:
  explicit DuplicateKeyCheck(const std::string &source) : source_(source) {}

  bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json &parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        frames_.push_back(Frame{event == Event::object_start, {}, child_path(), 0, {}});
        break;
      case Event::key: {
        Frame &frame = frames_.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second) {
          throw ConfigError(source_ + ": " + child_path() +
                            ": duplicate key (a key may appear once in a mapping)");
        }
        break;
      }
      case Event::object_end:
      case Event::array_end:
        frames_.pop_back();
        next_element();
        break;
      case Event::value:
        next_element();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string path;
    std::size_t index;
    std::string key;
  };

  std::string child_path() const {
    if (frames_.empty()) {
      return "";
    }
    const Frame &parent = frames_.back();
    if (parent.object) {
      return parent.path.empty() ? parent.key : parent.path + "." + parent.key;
    }
    return parent.path + "[" + std::to_string(parent.index) + "]";
  }

  void next_element() {
    if (!frames_.empty() && !frames_.back().object) {
      ++frames_.back().index;
    }
  }

  const std::string &source_;
  std::vector<Frame> frames_;
};

}  // namespace

std::string describe_json_error(const nlohmann::json::exception &error) {
  std::string text = error.what();
  if (!text.empty() && text.front() == '[') {
    std::size_t end = text.find("] ");
    if (end != std::string::npos) {
      text.erase(0, end + 2);
    }
  }
  // A syntax error quotes the token the lexer stopped in:
  //   "...: <problem>; last read: '<token>'[; expected <token name>]"
  // The token can be most of a string value (an api key with a control
  // character or without its closing quote). It goes; the line, column and
  // what was expected stay. The token may itself hold "'" or ";": the
  // "; expected" suffix is recognised only when what follows it is one of
  // nlohmann's token names, which a token followed by its closing quote
  // cannot be.
  const std::string last_read = "; last read: '";
  const std::size_t at = text.find(last_read);
  if (at != std::string::npos) {
    std::string expected;
    const std::size_t suffix = text.rfind("; expected ");
    if (suffix != std::string::npos && suffix > at) {
      const std::string name = text.substr(suffix + std::string("; expected ").size());
      static const char *const kTokenNames[] = {"<uninitialized>",
                                                "true literal",
                                                "false literal",
                                                "null literal",
                                                "string literal",
                                                "number literal",
                                                "'['",
                                                "'{'",
                                                "']'",
                                                "'}'",
                                                "':'",
                                                "','",
                                                "<parse error>",
                                                "end of input",
                                                "'[', '{', or a literal",
                                                "unknown token"};
      for (const char *known : kTokenNames) {
        if (name == known) {
          expected = text.substr(suffix);
          break;
        }
      }
    }
    text.erase(at);
    text += expected;
  }
  return text;
}

nlohmann::json parse_config_document(std::string_view text, const std::string &source) {
  if (has_json_extension(source)) {
    try {
      DuplicateKeyCheck check(source);
      return nlohmann::json::parse(text, std::ref(check));
    } catch (const nlohmann::json::exception &e) {
      throw ConfigError(source + ": invalid JSON: " + describe_json_error(e));
    }
  }
  return parse_yaml_document(text, source);
}

nlohmann::json read_config_document(const std::filesystem::path &path) {
  return parse_config_document(read_text_file(path), path.string());
}

}  // namespace nat::host
