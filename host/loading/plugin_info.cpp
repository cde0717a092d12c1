#include "loading/plugin_info.h"

#include <nlohmann/json.hpp>

#include "loading/plugin_load_error.h"

namespace nat::host {
namespace {

// Keeps the string members of the top-level object and nothing else.
class TopLevelStrings final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit TopLevelStrings(PluginInfoSummary &out) : out_(out) {}

  bool null() override { return other_value(); }
  bool boolean(bool) override { return other_value(); }
  bool number_integer(number_integer_t) override { return other_value(); }
  bool number_unsigned(number_unsigned_t) override { return other_value(); }
  bool number_float(number_float_t, const string_t &) override { return other_value(); }
  bool binary(binary_t &) override { return other_value(); }
  bool string(string_t &value) override {
    if (member()) {
      forget();
      out_.strings.emplace_back(key_, std::move(value));
    }
    return true;
  }
  bool key(string_t &key) override {
    if (depth_ == 1) key_ = std::move(key);
    return true;
  }
  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &error) override {
    error_ = error.what();
    return false;
  }

  const std::string &error() const { return error_; }

 private:
  // A value directly in the top-level object.
  bool member() const { return depth_ == 1 && out_.is_object; }
  // Of duplicate keys the last wins: a later value that is not a string
  // removes the string.
  void forget() {
    for (auto it = out_.strings.begin(); it != out_.strings.end(); ++it) {
      if (it->first == key_) {
        out_.strings.erase(it);
        return;
      }
    }
  }
  bool other_value() {
    if (member()) forget();
    return true;
  }
  bool open(bool object) {
    if (depth_ == 0) out_.is_object = object;
    other_value();
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }

  PluginInfoSummary &out_;
  std::size_t depth_ = 0;
  std::string key_;
  std::string error_;
};

}  // namespace

std::optional<PluginInfoSummary> scan_plugin_info(std::string_view text, std::string *error) {
  PluginInfoSummary summary;
  TopLevelStrings reader(summary);
  if (!nlohmann::json::sax_parse(text.begin(), text.end(), &reader)) {
    if (error) *error = reader.error();
    return std::nullopt;
  }
  return summary;
}

std::string info_string(const PluginInfoSummary &summary, std::string_view key) {
  for (const auto &[name, value] : summary.strings) {
    if (name == key) return value;
  }
  return std::string();
}

PluginInfoSummary read_plugin_info(const char *text) {
  if (text == nullptr) {
    throw PluginLoadError("nat_trainer_adapter_plugin_info() returned NULL");
  }
  std::string error;
  std::optional<PluginInfoSummary> summary = scan_plugin_info(text, &error);
  if (!summary) {
    throw PluginLoadError("plugin info is not valid JSON: " + error);
  }
  if (!summary->is_object) {
    throw PluginLoadError("plugin info is not a JSON object");
  }
  if (info_string(*summary, "name").empty()) {
    throw PluginLoadError("plugin info has no \"name\" (the NAT _type the plugin implements)");
  }
  return std::move(*summary);
}

}  // namespace nat::host
