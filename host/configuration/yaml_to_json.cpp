#include "configuration/yaml_to_json.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "configuration/config_error.h"

namespace nat::host {
namespace {

// yaml-cpp reports every scalar as text and leaves typing to the caller. Its
// Tag() is "?" for a plain scalar, "!" for a quoted or block scalar (always a
// string), and the full tag for an explicit one such as !!str.
constexpr const char *kPlainTag = "?";
constexpr const char *kNonPlainTag = "!";
constexpr const char *kCoreTagPrefix = "tag:yaml.org,2002:";

// The YAML 1.2 core schema's resolution rules (spec 10.3.2), by hand rather
// than with std::regex, which is slow and trips GCC 12 warnings under the
// sanitizers.
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal_digit(char c) { return c >= '0' && c <= '7'; }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_one_of(std::string_view text, std::initializer_list<std::string_view> words) {
  for (std::string_view word : words) {
    if (text == word) {
      return true;
    }
  }
  return false;
}

// Consumes a run of characters passing `accept`; false if there was none.
template <typename Accept>
bool skip_run(std::string_view &text, Accept accept) {
  std::size_t length = 0;
  while (length < text.size() && accept(text[length])) {
    ++length;
  }
  text.remove_prefix(length);
  return length > 0;
}

bool skip_sign(std::string_view &text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    text.remove_prefix(1);
    return true;
  }
  return false;
}

// null | Null | NULL | ~ | (empty)
bool is_core_null(std::string_view text) { return is_one_of(text, {"", "~", "null", "Null", "NULL"}); }

// [-+]? [0-9]+
bool is_decimal_int(std::string_view text) {
  skip_sign(text);
  return skip_run(text, is_digit) && text.empty();
}

// 0o [0-7]+ or 0x [0-9a-fA-F]+
bool is_prefixed_int(std::string_view text, std::string_view prefix, bool (*digit)(char)) {
  if (text.substr(0, 2) != prefix) {
    return false;
  }
  text.remove_prefix(2);
  return skip_run(text, digit) && text.empty();
}

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool is_core_float(std::string_view text) {
  skip_sign(text);
  if (!text.empty() && text.front() == '.') {
    text.remove_prefix(1);
    if (!skip_run(text, is_digit)) {
      return false;
    }
  } else {
    if (!skip_run(text, is_digit)) {
      return false;
    }
    if (!text.empty() && text.front() == '.') {
      text.remove_prefix(1);
      skip_run(text, is_digit);
    }
  }
  if (!text.empty() && (text.front() == 'e' || text.front() == 'E')) {
    text.remove_prefix(1);
    skip_sign(text);
    if (!skip_run(text, is_digit)) {
      return false;
    }
  }
  return text.empty();
}

// [-+]? \.(inf|Inf|INF) and \.(nan|NaN|NAN)
bool is_infinity_or_nan(std::string_view text) {
  if (is_one_of(text, {".nan", ".NaN", ".NAN"})) {
    return true;
  }
  skip_sign(text);
  return is_one_of(text, {".inf", ".Inf", ".INF"});
}

nlohmann::json unsigned_or_signed(std::uint64_t value) {
  if (value <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value);
  }
  return value;
}

// from_chars does not take a leading '+'.
std::string_view without_plus(const std::string &text) {
  std::string_view view(text);
  if (!view.empty() && view.front() == '+') {
    view.remove_prefix(1);
  }
  return view;
}

nlohmann::json parse_float(const std::string &text) {
  std::string_view digits = without_plus(text);
  double value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

nlohmann::json parse_decimal_int(const std::string &text) {
  std::string_view digits = without_plus(text);
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error == std::errc() && end == digits.data() + digits.size()) {
    return value;
  }
  std::uint64_t unsigned_value = 0;
  auto [unsigned_end, unsigned_error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), unsigned_value);
  if (unsigned_error == std::errc() && unsigned_end == digits.data() + digits.size()) {
    return unsigned_value;
  }
  // Beyond 64 bits: JSON has numbers of any size, nlohmann keeps them as double.
  return parse_float(text);
}

std::optional<nlohmann::json> parse_based_int(const std::string &text, int base) {
  std::uint64_t value = 0;
  const char *first = text.data() + 2;
  const char *last = text.data() + text.size();
  auto [end, error] = std::from_chars(first, last, value, base);
  if (error != std::errc() || end != last) {
    return std::nullopt;
  }
  return unsigned_or_signed(value);
}

class Converter {
 public:
  explicit Converter(const std::string &source) : source_(source) {}

  nlohmann::json convert(const YAML::Node &node, const std::string &key_path) {
    Visit visit(*this, node, key_path);
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return nullptr;
      case YAML::NodeType::Scalar:
        count_bytes(node, key_path, node.Scalar().size());
        return convert_scalar(node, key_path);
      case YAML::NodeType::Sequence: {
        nlohmann::json array = nlohmann::json::array();
        std::size_t index = 0;
        for (const YAML::Node &element : node) {
          array.push_back(convert(element, key_path + "[" + std::to_string(index) + "]"));
          ++index;
        }
        return array;
      }
      case YAML::NodeType::Map:
        return convert_map(node, key_path);
    }
    return nullptr;
  }

 private:
  // One node on the way down: refuses a node that contains itself (an
  // alias to an ancestor: `cyc: &c [1, *c]`), nesting deeper than
  // kMaxYamlDepth and, since aliases repeat what they name without copying
  // it in the YAML, a document that expands to more than kMaxYamlValues
  // values (an alias bomb). Every check comes before the node's own
  // conversion, so neither the stack nor the memory grows past the limits.
  class Visit {
   public:
    Visit(Converter &converter, const YAML::Node &node, const std::string &key_path) : converter_(converter) {
      for (const YAML::Node &ancestor : converter.path_) {
        if (ancestor.is(node)) {
          throw converter.error(
              node, value_path(key_path),
              "an alias refers to a node that contains it (a cycle), which JSON cannot hold");
        }
      }
      if (converter.path_.size() >= kMaxYamlDepth) {
        throw converter.error(node, value_path(key_path),
                              "nested deeper than " + std::to_string(kMaxYamlDepth) + " levels");
      }
      if (++converter.values_ > kMaxYamlValues) {
        throw converter.error(
            node, value_path(key_path),
            "the document expands to more than " + std::to_string(kMaxYamlValues) +
                " values (aliases repeat the node they name: too many aliases of aliases?)");
      }
      converter.path_.push_back(node);
    }
    ~Visit() { converter_.path_.pop_back(); }
    Visit(const Visit &) = delete;
    Visit &operator=(const Visit &) = delete;

   private:
    Converter &converter_;
  };

  void count_bytes(const YAML::Node &node, const std::string &key_path, std::size_t bytes) {
    bytes_ += bytes;
    if (bytes_ > kMaxYamlBytes) {
      throw error(node, value_path(key_path),
                  "the document expands to more than " + std::to_string(kMaxYamlBytes) +
                      " bytes of keys and scalars (aliases repeat the node they name: too many aliases?)");
    }
  }

  nlohmann::json convert_map(const YAML::Node &node, const std::string &key_path) {
    nlohmann::json object = nlohmann::json::object();
    std::vector<YAML::Node> merged;
    for (const auto &entry : node) {
      if (!entry.first.IsScalar()) {
        throw error(entry.first, key_path, "a mapping key must be a scalar to become a JSON object key");
      }
      const std::string &key = entry.first.Scalar();
      count_bytes(entry.first, key_path, key.size());
      if (key == "<<" && entry.first.Tag() == kPlainTag) {
        merged.push_back(entry.second);
        continue;
      }
      if (object.contains(key)) {
        // PyYAML keeps the last value, nlohmann too, yaml-cpp hands both:
        // refused, as JSON configs and collections refuse a repeated key.
        throw error(entry.first, join(key_path, key), "duplicate key (a key may appear once in a mapping)");
      }
      object[key] = convert(entry.second, join(key_path, key));
    }
    // Merge keys (YAML 1.1, honoured by PyYAML and hence by NAT): keys of the
    // mapping itself win over merged ones, earlier merged mappings over later.
    for (const YAML::Node &source : merged) {
      std::vector<YAML::Node> mappings;
      if (source.IsMap()) {
        mappings.push_back(source);
      } else if (source.IsSequence()) {
        for (const YAML::Node &element : source) {
          mappings.push_back(element);
        }
      }
      for (const YAML::Node &mapping : mappings) {
        if (!mapping.IsMap()) {
          throw error(mapping, join(key_path, "<<"), "a merge key needs a mapping or a list of mappings");
        }
        Visit visit(*this, mapping, join(key_path, "<<"));
        nlohmann::json values = convert_map(mapping, key_path);
        for (auto &[key, value] : values.items()) {
          if (!object.contains(key)) {
            object[key] = value;
          }
        }
      }
    }
    return object;
  }

  nlohmann::json convert_scalar(const YAML::Node &node, const std::string &key_path) const {
    const std::string &tag = node.Tag();
    const std::string &text = node.Scalar();
    if (tag == kNonPlainTag || tag == std::string(kCoreTagPrefix) + "str") {
      return text;
    }
    if (tag == kPlainTag || tag.empty()) {
      std::optional<nlohmann::json> value = resolve_plain_scalar(text);
      if (!value) {
        // Scalars are not quoted (here nor below): one could be a secret, such
        // as an api key. The key path and the line say which it is.
        throw error(node, value_path(key_path), "infinity or NaN cannot be represented in JSON");
      }
      return *value;
    }
    if (tag.rfind(kCoreTagPrefix, 0) == 0) {
      // !!int, !!float, !!bool, !!null: the text must resolve to that type.
      std::optional<nlohmann::json> value = resolve_plain_scalar(text);
      const std::string type = tag.substr(std::string(kCoreTagPrefix).size());
      bool matches =
          value.has_value() &&
          ((type == "int" && value->is_number_integer()) || (type == "float" && value->is_number()) ||
           (type == "bool" && value->is_boolean()) || (type == "null" && value->is_null()));
      if (!matches) {
        throw error(node, value_path(key_path), "the value is not a valid !!" + type);
      }
      if (type == "float") {
        return value->get<double>();
      }
      return *value;
    }
    // Application tags (!foo) mean nothing to NAT's config loader; keep the text.
    return text;
  }

  // The key path of a scalar for messages; a document that is one scalar has none.
  static std::string value_path(const std::string &key_path) {
    return key_path.empty() ? std::string("the top-level value") : key_path;
  }

  static std::string join(const std::string &key_path, const std::string &key) {
    return key_path.empty() ? key : key_path + "." + key;
  }

  ConfigError error(const YAML::Node &node, const std::string &key_path, const std::string &what) const {
    std::string where = source_;
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null()) {
      where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
    return ConfigError(where + ": " + (key_path.empty() ? std::string() : key_path + ": ") + what);
  }

  const std::string &source_;
  std::vector<YAML::Node> path_;  // the nodes being converted, outermost first
  std::size_t values_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace

std::optional<nlohmann::json> resolve_plain_scalar(const std::string &scalar) {
  if (is_core_null(scalar)) {
    return nlohmann::json(nullptr);
  }
  if (is_one_of(scalar, {"true", "True", "TRUE"})) {
    return nlohmann::json(true);
  }
  if (is_one_of(scalar, {"false", "False", "FALSE"})) {
    return nlohmann::json(false);
  }
  if (is_decimal_int(scalar)) {
    return parse_decimal_int(scalar);
  }
  const bool octal = is_prefixed_int(scalar, "0o", is_octal_digit);
  if (octal || is_prefixed_int(scalar, "0x", is_hex_digit)) {
    std::optional<nlohmann::json> value = parse_based_int(scalar, octal ? 8 : 16);
    // Wider than 64 bits: kept as text rather than rounded.
    return value ? value : nlohmann::json(scalar);
  }
  if (is_core_float(scalar)) {
    return parse_float(scalar);
  }
  if (is_infinity_or_nan(scalar)) {
    return std::nullopt;
  }
  return nlohmann::json(scalar);
}

nlohmann::json yaml_to_json(const YAML::Node &node, const std::string &source) {
  Converter converter(source);
  return converter.convert(node, "");
}

nlohmann::json parse_yaml_document(std::string_view text, const std::string &source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception &e) {
    std::string where = source;
    if (!e.mark.is_null()) {
      where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    throw ConfigError(where + ": invalid YAML: " + e.msg);
  }
  return yaml_to_json(root, source);
}

}  // namespace nat::host
