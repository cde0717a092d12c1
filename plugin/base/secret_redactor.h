// Keeps secrets (the backend api key, the inference key the server hands
// out) out of everything an adapter reports: error messages, job status
// messages and metadata, events. Server answers are quoted in errors (a
// FastAPI 422 echoes its `input`, which can be the model body with its
// `inference_api_key`), so text is redacted where it leaves the adapter, not
// where it is made. Where server text is quoted and shortened, quote() masks
// before it cuts (so a key that straddles the cut is masked whole) and masks
// what is left of a key at the cut.
#pragma once

#include <algorithm>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace nat {

class SecretRedactor {
 public:
  static constexpr const char *kMask = "[redacted]";

  // Registers a secret. Ignored: "" and "default" (NAT's documented default
  // key, public), and anything shorter than 4 bytes, which would mask common
  // words rather than a secret. The raw text and its JSON-escaped forms (as
  // nlohmann and as Python's json.dumps write it) are masked.
  void add(const std::string &secret) {
    if (secret.size() < 4 || secret == "default") return;
    std::lock_guard<std::mutex> lock(mu_);
    for (std::string form : {secret, json_escaped(secret, false), json_escaped(secret, true)}) {
      bool known = false;
      for (const auto &s : forms_) known = known || s == form;
      if (!known) forms_.push_back(std::move(form));
    }
  }

  std::string redact(std::string text) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto &form : forms_) {
      for (size_t at = text.find(form); at != std::string::npos;
           at = text.find(form, at + std::strlen(kMask)))
        text.replace(at, form.size(), kMask);
    }
    return text;
  }

  // The shortest piece of a secret that quote() masks where text was cut:
  // shorter pieces say too little about the key to matter, and masking them
  // would hide ordinary words.
  static constexpr size_t kMinFragment = 8;

  // Server bytes as they may appear in a message: secrets masked first, then
  // made valid UTF-8 without NUL (see nat::text::printable_text) and masked
  // again, then cut to
  // at most max_bytes on a character boundary with "..." appended. Where the
  // text was cut (by this call, or before it when input_was_cut says the
  // bytes were already truncated at their end), a piece of a secret of
  // kMinFragment or more bytes that ends at the cut, i.e. a prefix of the
  // secret in any of its forms, is masked too.
  std::string quote(std::string_view bytes, size_t max_bytes, bool input_was_cut = false) const {
    // Masked again once printable: an escape's hex digits next to the rest
    // of a key ("\\xf" + "uzzkey...") could spell a key out.
    std::string text = redact(text::printable_text(redact(std::string(bytes))));
    bool cut = input_was_cut;
    if (text.size() > max_bytes) {
      text.resize(text::utf8_cut_point(text, max_bytes));
      cut = true;
    }
    if (!cut) return text;
    mask_fragment_at_end(text);
    return text + "...";
  }

  // Masks secrets in every string and object key of `value`.
  void redact(nlohmann::json &value) const {
    if (value.is_string()) {
      value = redact(value.get<std::string>());
    } else if (value.is_array()) {
      for (auto &item : value) redact(item);
    } else if (value.is_object()) {
      nlohmann::json out = nlohmann::json::object();
      for (auto it = value.begin(); it != value.end(); ++it) {
        nlohmann::json item = it.value();
        redact(item);
        out[redact(it.key())] = std::move(item);
      }
      value = std::move(out);
    }
  }

  // Masks the longest prefix (kMinFragment bytes or more) of any secret form
  // that `text` ends with.
  void mask_fragment_at_end(std::string &text) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t longest = 0;
    for (const auto &form : forms_) {
      size_t most = std::min(form.size(), text.size());
      for (size_t len = most; len >= kMinFragment && len > longest; --len) {
        if (text.compare(text.size() - len, len, form, 0, len) == 0) {
          longest = len;
          break;
        }
      }
    }
    if (longest > 0) text.replace(text.size() - longest, longest, kMask);
  }

 private:
  // The inside of a JSON string literal of `s`; with ascii_only, every
  // non-ASCII code point as \uXXXX (surrogate pairs beyond the BMP).
  static std::string json_escaped(const std::string &s, bool ascii_only) {
    std::string out = nlohmann::json(s).dump(-1, ' ', ascii_only, nlohmann::json::error_handler_t::replace);
    return out.size() >= 2 ? out.substr(1, out.size() - 2) : out;
  }

  mutable std::mutex mu_;
  std::vector<std::string> forms_;
};

}  // namespace nat
