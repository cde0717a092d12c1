#include "loading/plugin_library.hpp"

#include <dlfcn.h>
#include <locale.h>

#include <cmath>
#include <cstdlib>

#include <boost/dll/shared_library.hpp>

#include "loading/resident_libraries.hpp"

namespace nat::host {
namespace {

// --- The info JSON, checked and read in one pass ------------------------------
//
// Discovery loads every plugin file to learn its name; building an
// nlohmann::json document of each info (mostly the config schema, ~4 KB) was
// a third of the CPU time of discovering 100 plugins. InfoScanner accepts
// exactly what nlohmann::json::parse accepts (tests/host/loading compares
// the two on edge cases and mutated inputs) and keeps only the top-level
// strings; anything it refuses is handed to nlohmann::json::parse, whose
// verdict and message count.
class InfoScanner {
 public:
  explicit InfoScanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool run(PluginInfoSummary& out) {
    // nlohmann skips a UTF-8 byte order mark.
    if (end_ - p_ >= 3 && static_cast<unsigned char>(p_[0]) == 0xEF && static_cast<unsigned char>(p_[1]) == 0xBB &&
        static_cast<unsigned char>(p_[2]) == 0xBF) {
      p_ += 3;
    }
    skip_whitespace();
    out.is_object = p_ < end_ && *p_ == '{';
    std::vector<char> open;  // the enclosing '{' and '['
    std::string key;
    bool want_value = true;
    for (;;) {
      if (want_value) {
        skip_whitespace();
        if (p_ == end_) return false;
        // A value of the top-level object: its strings are kept.
        const bool member = open.size() == 1 && open.back() == '{';
        switch (*p_) {
          case '{':
          case '[': {
            const char bracket = *p_++;
            if (member) forget(out, key);
            skip_whitespace();
            if (p_ < end_ && *p_ == (bracket == '{' ? '}' : ']')) {
              ++p_;
              break;
            }
            open.push_back(bracket);
            if (bracket == '{') {
              if (!read_key(key)) return false;
            }
            continue;
          }
          case '"':
            if (member) {
              std::string value;
              if (!read_string(&value)) return false;
              forget(out, key);
              out.strings.emplace_back(key, std::move(value));
            } else if (!read_string(nullptr)) {
              return false;
            }
            break;
          case 't':
            if (!literal("true", 4)) return false;
            if (member) forget(out, key);
            break;
          case 'f':
            if (!literal("false", 5)) return false;
            if (member) forget(out, key);
            break;
          case 'n':
            if (!literal("null", 4)) return false;
            if (member) forget(out, key);
            break;
          default:
            if (!number()) return false;
            if (member) forget(out, key);
            break;
        }
        want_value = false;
      }
      // After a value: the end, a comma or a closing bracket.
      skip_whitespace();
      if (open.empty()) return p_ == end_;
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        if (open.back() == '{' && !read_key(key)) return false;
        want_value = true;
        continue;
      }
      if (*p_ != (open.back() == '{' ? '}' : ']')) return false;
      ++p_;
      open.pop_back();
    }
  }

 private:
  static void forget(PluginInfoSummary& out, const std::string& key) {
    for (auto it = out.strings.begin(); it != out.strings.end(); ++it) {
      if (it->first == key) {
        out.strings.erase(it);
        return;
      }
    }
  }

  void skip_whitespace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // `"key" :`, leaving p_ on what follows the colon.
  bool read_key(std::string& key) {
    skip_whitespace();
    if (p_ == end_ || *p_ != '"') return false;
    key.clear();
    if (!read_string(&key)) return false;
    skip_whitespace();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    return true;
  }

  bool literal(const char* word, std::size_t size) {
    if (static_cast<std::size_t>(end_ - p_) < size || std::string_view(p_, size) != std::string_view(word, size)) {
      return false;
    }
    p_ += size;
    return true;
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  // As nlohmann's lexer: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, and
  // the value must be finite as a double (an integer too large for 64 bits
  // is read as a double).
  bool number() {
    const char* start = p_;
    if (*p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && is_digit(*p_)) ++p_;
    } else {
      return false;
    }
    bool floating = false;
    if (p_ < end_ && *p_ == '.') {
      floating = true;
      ++p_;
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      floating = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (!floating && p_ - start <= 19) return true;  // fits 64 bits or a double
    static const locale_t c_locale = ::newlocale(LC_ALL_MASK, "C", locale_t{});
    const std::string token(start, p_);
    return std::isfinite(::strtod_l(token.c_str(), nullptr, c_locale));
  }

  bool hex4(unsigned& value) {
    if (end_ - p_ < 4) return false;
    value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  static void append_utf8(std::string& out, unsigned code_point) {
    if (code_point < 0x80) {
      out.push_back(static_cast<char>(code_point));
    } else if (code_point < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
      out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    } else if (code_point < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    }
  }

  // The length of the well-formed UTF-8 sequence of 2 to 4 bytes at p_, 0 if
  // it is not one (overlong forms, surrogates, beyond U+10FFFF).
  std::size_t utf8_sequence() const {
    auto byte = [this](std::ptrdiff_t i) { return p_ + i < end_ ? static_cast<unsigned char>(p_[i]) : 0u; };
    auto in = [](unsigned c, unsigned low, unsigned high) { return c >= low && c <= high; };
    const unsigned c = byte(0);
    if (in(c, 0xC2, 0xDF)) return in(byte(1), 0x80, 0xBF) ? 2 : 0;
    if (in(c, 0xE0, 0xEF)) {
      const unsigned low = c == 0xE0 ? 0xA0 : 0x80;
      const unsigned high = c == 0xED ? 0x9F : 0xBF;
      return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
    }
    if (in(c, 0xF0, 0xF4)) {
      const unsigned low = c == 0xF0 ? 0x90 : 0x80;
      const unsigned high = c == 0xF4 ? 0x8F : 0xBF;
      return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
    }
    return 0;
  }

  // A string at p_ (on its opening quote); its unescaped text goes to `out`
  // unless that is null.
  bool read_string(std::string* out) {
    ++p_;
    const char* run = p_;
    for (;;) {
      if (p_ == end_) return false;
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        if (out) out->append(run, p_);
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (out) out->append(run, p_);
        if (++p_ == end_) return false;
        const char escape = *p_++;
        char plain = 0;
        switch (escape) {
          case '"':
          case '\\':
          case '/':
            plain = escape;
            break;
          case 'b':
            plain = '\b';
            break;
          case 'f':
            plain = '\f';
            break;
          case 'n':
            plain = '\n';
            break;
          case 'r':
            plain = '\r';
            break;
          case 't':
            plain = '\t';
            break;
          case 'u': {
            unsigned code_point = 0;
            if (!hex4(code_point)) return false;
            if (code_point >= 0xD800 && code_point <= 0xDBFF) {
              unsigned low = 0;
              if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
              p_ += 2;
              if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
              code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
            } else if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
              return false;
            }
            if (out) append_utf8(*out, code_point);
            break;
          }
          default:
            return false;
        }
        if (plain != 0 && out) out->push_back(plain);
        run = p_;
        continue;
      }
      if (c < 0x20) return false;
      if (c < 0x80) {
        ++p_;
        continue;
      }
      const std::size_t length = utf8_sequence();
      if (length == 0) return false;
      p_ += length;
    }
  }

  const char* p_;
  const char* end_;
};

// --- Loading ------------------------------------------------------------------

// Boost.DLL's throwing overloads put dlerror's text into the exception, as
// "<what> (dlerror system message: <text>): <errno text>". The dlerror part
// is the useful one; the rest repeats what we already know.
std::string dlerror_text(const std::exception& error, const std::filesystem::path& file = {}) {
  std::string text = error.what();
  const std::string marker = "dlerror system message: ";
  std::size_t start = text.find(marker);
  if (start == std::string::npos) {
    return text;
  }
  start += marker.size();
  std::size_t end = text.rfind("):");
  if (end == std::string::npos || end < start) {
    end = text.size();
  }
  std::string message = text.substr(start, end - start);
  // dlopen's message starts with the file name, which the caller reports.
  const std::string prefix = file.string() + ": ";
  if (!file.empty() && message.rfind(prefix, 0) == 0) {
    message.erase(0, prefix.size());
  }
  return message;
}

// One dlsym per function, on the handle Boost.DLL opened (its has() and
// get<>() would look each symbol up twice).
template <typename FunctionPointer>
void resolve(void* library, const char* symbol, FunctionPointer& slot) {
  void* address = ::dlsym(library, symbol);
  if (address == nullptr) {
    throw PluginLoadError("ABI " + abi_version_text(NAT_TRAINER_ADAPTER_ABI_VERSION) + " function " + symbol +
                          " is missing");
  }
  slot = reinterpret_cast<FunctionPointer>(address);
}

// A function a plugin may leave out: the slot stays null without it.
template <typename FunctionPointer>
void resolve_optional(void* library, const char* symbol, FunctionPointer& slot) {
  slot = reinterpret_cast<FunctionPointer>(::dlsym(library, symbol));
}

void resolve_all(void* library, AbiFunctions& functions) {
  resolve(library, "nat_trainer_adapter_error_code", functions.error_code);
  resolve(library, "nat_trainer_adapter_error_message", functions.error_message);
  resolve(library, "nat_trainer_adapter_error_free", functions.error_free);
  resolve(library, "nat_trainer_adapter_buffer_data", functions.buffer_data);
  resolve(library, "nat_trainer_adapter_buffer_size", functions.buffer_size);
  resolve(library, "nat_trainer_adapter_buffer_free", functions.buffer_free);
  resolve(library, "nat_trainer_adapter_create", functions.create);
  resolve(library, "nat_trainer_adapter_destroy", functions.destroy);
  resolve(library, "nat_trainer_adapter_initialize", functions.initialize);
  resolve(library, "nat_trainer_adapter_is_healthy", functions.is_healthy);
  resolve(library, "nat_trainer_adapter_submit", functions.submit);
  resolve(library, "nat_trainer_adapter_status", functions.status);
  resolve(library, "nat_trainer_adapter_wait_until_complete", functions.wait_until_complete);
  resolve(library, "nat_trainer_adapter_cancel", functions.cancel);
  resolve(library, "nat_trainer_adapter_jobs", functions.jobs);
  resolve(library, "nat_trainer_adapter_next_event", functions.next_event);
  resolve(library, "nat_trainer_adapter_log_progress", functions.log_progress);
  resolve(library, "nat_trainer_adapter_convert", functions.convert);
  resolve_optional(library, "nat_trainer_adapter_resubmit", functions.resubmit);
}

PluginInfoSummary summary_of(const nlohmann::json& info) {
  PluginInfoSummary summary;
  summary.is_object = info.is_object();
  if (summary.is_object) {
    for (const auto& [key, value] : info.items()) {
      if (value.is_string()) summary.strings.emplace_back(key, value.get<std::string>());
    }
  }
  return summary;
}

}  // namespace

std::string abi_version_text(std::uint32_t abi_version) {
  return std::to_string(abi_version >> 16) + "." + std::to_string(abi_version & 0xffffu);
}

std::optional<PluginInfoSummary> scan_plugin_info(std::string_view text) {
  // nlohmann's lexer reads a NUL byte as the end of the input.
  text = text.substr(0, text.find('\0'));
  PluginInfoSummary summary;
  if (!InfoScanner(text).run(summary)) return std::nullopt;
  if (!summary.is_object) summary.strings.clear();
  return summary;
}

std::string PluginLibrary::info_text(const char* key) const {
  for (const auto& [name, value] : info_strings_) {
    if (name == key) return value;
  }
  return std::string();
}

const nlohmann::json& PluginLibrary::info() const {
  std::call_once(info_parsed_, [this] {
    // Checked at load: this cannot fail unless the scanner and nlohmann
    // disagree; then the strings read at load stand in for the document.
    info_ = nlohmann::json::parse(info_json_, nullptr, false);
    if (info_.is_discarded()) {
      info_ = nlohmann::json::object();
      for (const auto& [name, value] : info_strings_) info_[name] = value;
    }
  });
  return info_;
}

std::shared_ptr<const PluginLibrary> PluginLibrary::load(const std::filesystem::path& file) {
  namespace dll = boost::dll;
  std::shared_ptr<PluginLibrary> plugin(new PluginLibrary);
  plugin->path_ = file;

  boost::dll::shared_library* library = nullptr;
  try {
    library = &keep_resident(dll::shared_library(file, dll::load_mode::rtld_now | dll::load_mode::rtld_local));
  } catch (const std::exception& e) {
    throw PluginLoadError("cannot load: " + dlerror_text(e, file));
  }
  void* const handle = library->native();

  AbiFunctions& functions = plugin->functions_;
  void* bootstrap[2] = {nullptr, nullptr};
  const char* const bootstrap_names[2] = {"nat_trainer_adapter_abi_version", "nat_trainer_adapter_plugin_info"};
  for (int i = 0; i < 2; ++i) {
    bootstrap[i] = ::dlsym(handle, bootstrap_names[i]);
    if (bootstrap[i] == nullptr) {
      throw PluginLoadError(std::string("not a trainer adapter plugin: it does not export ") + bootstrap_names[i]);
    }
  }
  functions.abi_version = reinterpret_cast<decltype(functions.abi_version)>(bootstrap[0]);
  functions.plugin_info = reinterpret_cast<decltype(functions.plugin_info)>(bootstrap[1]);

  // The version check comes before any other call into the plugin.
  plugin->abi_version_ = functions.abi_version();
  if ((plugin->abi_version_ >> 16) != NAT_TRAINER_ADAPTER_ABI_MAJOR) {
    throw PluginLoadError("plugin ABI " + abi_version_text(plugin->abi_version_) +
                          " is incompatible with nat-trainer's ABI " +
                          abi_version_text(NAT_TRAINER_ADAPTER_ABI_VERSION) + " (the major versions differ)");
  }

  const char* info_text = functions.plugin_info();
  if (info_text == nullptr) {
    throw PluginLoadError("nat_trainer_adapter_plugin_info() returned NULL");
  }
  plugin->info_json_ = info_text;
  std::optional<PluginInfoSummary> summary = scan_plugin_info(plugin->info_json_);
  if (!summary) {
    // nlohmann::json decides, and says what is wrong.
    try {
      plugin->info_ = nlohmann::json::parse(plugin->info_json_);
    } catch (const nlohmann::json::exception& e) {
      throw PluginLoadError(std::string("plugin info is not valid JSON: ") + e.what());
    }
    std::call_once(plugin->info_parsed_, [] {});
    summary = summary_of(plugin->info_);
  }
  if (!summary->is_object) {
    throw PluginLoadError("plugin info is not a JSON object");
  }
  plugin->info_strings_ = std::move(summary->strings);
  plugin->name_ = plugin->info_text("name");
  if (plugin->name_.empty()) {
    throw PluginLoadError("plugin info has no \"name\" (the NAT _type the plugin implements)");
  }

  resolve_all(handle, functions);
  return plugin;
}

}  // namespace nat::host
