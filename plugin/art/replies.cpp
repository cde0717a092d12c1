#include "art/replies.h"

#include <algorithm>
#include <cctype>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "base/error.h"
#include "json/fast_scan.h"
#include "json/small_json.h"

namespace nat::art {

namespace {

const char *kind_of(const nlohmann::json &v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

// Python's json.dumps writes float('nan') and float('inf') as the bare words
// NaN, Infinity and -Infinity, which are not JSON. ART streams its metrics
// with json.dumps, so a NaN loss arrives that way. A number literal beyond
// the range of a double (1e400) is JSON, but no parser can hold it. Replaces
// those values (outside strings, where a value starts) by null; returns false
// when there were none.
// Length of the NaN, Infinity or -Infinity word at p, or of a number literal
// there that overflows a double; 0 for anything else.
size_t nonfinite_token(const char *p, const char *end) {
  static constexpr std::string_view kWords[] = {"-Infinity", "Infinity", "NaN"};
  const std::string_view rest(p, static_cast<size_t>(end - p));
  for (std::string_view word : kWords) {
    if (rest.substr(0, word.size()) == word &&
        (rest.size() == word.size() || !std::isalnum(static_cast<unsigned char>(rest[word.size()]))))
      return word.size();
  }
  const char *past = json::fast::number(p, end);
  if (past == nullptr) return 0;
  std::string number(p, past);
  // strtod reads the locale's decimal point (as nlohmann's lexer does).
  const char point = *std::localeconv()->decimal_point;
  std::replace(number.begin(), number.end(), '.', point);
  return std::isinf(std::strtod(number.c_str(), nullptr)) ? static_cast<size_t>(past - p) : 0;
}

// Python's json.dumps writes float('nan') and float('inf') as the bare words
// NaN, Infinity and -Infinity, which are not JSON. ART streams its metrics
// with json.dumps, so a NaN loss arrives that way. A number literal beyond
// the range of a double (1e400) is JSON, but no parser can hold it. Replaces
// those values (outside strings, where a value starts) by null; returns false
// when there were none. Strings, whitespace and numbers are told apart by the
// scanner's lexical layer (json/fast_scan.h).
bool null_nonfinite_values(std::string_view line, std::string &out) {
  out.clear();
  out.reserve(line.size());
  const char *p = line.data();
  const char *const end = p + line.size();
  bool replaced = false;
  char previous = '\0';  // the last byte outside strings and whitespace
  while (p < end) {
    const char *token = json::fast::ws(p, end);
    out.append(p, token);
    if (token >= end) break;
    p = token;
    const char *past = p + 1;
    if (*p == '"') {
      past = json::fast::string_end(p, end);
      if (past == nullptr) past = end;
    } else if (previous == ':' || previous == ',' || previous == '[' || previous == '\0') {
      if (size_t n = nonfinite_token(p, end)) {
        out += "null";
        p += n;
        previous = 'l';
        replaced = true;
        continue;
      }
      if (const char *number = json::fast::number(p, end)) past = number;
    }
    out.append(p, past);
    previous = past[-1];
    p = past;
  }
  return replaced;
}

}  // namespace

ServerDialect parse_openapi_reply(std::string_view body) {
  ServerDialect d;
  nlohmann::json spec;
  try {
    spec = json::parse_checked(body, "/openapi.json", kMaxOpenApiDepth);
  } catch (const Error &e) {
    d.note = std::string("unreadable /openapi.json (") + e.what() + "); assuming ART 0.4.x";
    return d;
  }
  const nlohmann::json *paths = spec.is_object() && spec.contains("paths") ? &spec["paths"] : nullptr;
  auto has = [&](const char *route) { return paths && paths->is_object() && paths->contains(route); };
  d.detected = true;
  d.has_train_model = has("/_train_model");
  if (has("/_delete_checkpoint_files") || (!has("/_log") && !has("/_delete_checkpoints"))) {
    d.dialect = Dialect::V05;
  } else {
    d.dialect = Dialect::V04;
  }
  // Newer ART renamed TrainConfig.beta to kl_penalty_coef; the schema says which.
  d.beta_field = d.dialect == Dialect::V05 ? "kl_penalty_coef" : "beta";
  const nlohmann::json *props = &spec;
  for (const char *key : {"components", "schemas", "TrainConfig", "properties"}) {
    if (!props->is_object() || !props->contains(key)) {
      props = nullptr;
      break;
    }
    props = &(*props)[key];
  }
  if (props && props->is_object()) {
    if (props->contains("beta"))
      d.beta_field = "beta";
    else if (props->contains("kl_penalty_coef"))
      d.beta_field = "kl_penalty_coef";
  }
  return d;
}

std::string error_detail(std::string_view body, const SecretRedactor &secrets, bool body_was_cut) {
  std::string detail;
  bool from_json = false;
  try {
    // Depth-checked before anything recursive touches it; the dump below
    // then recurses at most kMaxReplyDepth levels.
    nlohmann::json j = json::parse_checked(body, "error reply", kMaxReplyDepth);
    if (j.is_object() && j.contains("detail")) {
      const nlohmann::json &d = j["detail"];
      detail = d.is_string() ? d.get<std::string>() : json::dump(d);
      from_json = true;
    }
  } catch (const Error &) {
  }
  if (!from_json) return secrets.quote(body, kMaxQuotedDetail, body_was_cut);
  return secrets.quote(detail, kMaxQuotedDetail);
}

std::string http_error_text(const std::string &what, long status, std::string_view body,
                            const SecretRedactor &secrets, bool body_was_cut) {
  std::string head = what + " returned HTTP " + std::to_string(status);
  std::string detail = error_detail(body, secrets, body_was_cut);
  bool blank = std::all_of(detail.begin(), detail.end(),
                           [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  if (blank) return head + " with an empty body";
  return head + ": " + detail;
}

int64_t parse_step_reply(std::string_view body, const SecretRedactor &secrets) {
  const std::string head = "POST /_get_step: expected a step number (an integer from 0 to 2^63-1), got ";
  nlohmann::json j;
  try {
    j = json::parse_checked(body, "/_get_step reply", kMaxReplyDepth);
  } catch (const Error &) {
    std::string quoted = secrets.quote(body, kMaxQuotedReply);
    throw Error(ErrorCode::Unavailable,
                head + (quoted.empty() ? std::string("an empty body") : "'" + quoted + "'"));
  }
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(v);
    throw Error(ErrorCode::Unavailable, head + std::to_string(v) + ", which is out of range");
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v >= 0) return v;
    throw Error(ErrorCode::Unavailable, head + std::to_string(v) + ", which is negative");
  }
  throw Error(ErrorCode::Unavailable, head + "'" + secrets.quote(body, kMaxQuotedReply) + "'");
}

PreparedBackend parse_prepare_reply(std::string_view body) {
  const std::string head =
      "POST /_prepare_backend_for_training: expected a JSON array [base_url, api_key], got ";
  nlohmann::json reply;
  try {
    reply = json::parse_checked(body, "reply", kMaxReplyDepth);
  } catch (const Error &e) {
    // The syntax error says where, not what: the reply is not quoted, as it
    // may hold a key nobody knows yet.
    throw Error(ErrorCode::Unavailable, head + "something else (" + e.what() + ")");
  }
  if (!reply.is_array()) throw Error(ErrorCode::Unavailable, head + kind_of(reply));
  if (reply.size() != 2)
    throw Error(ErrorCode::Unavailable, head + "an array of " + std::to_string(reply.size()) + " values");
  if (!reply[0].is_string() || !reply[1].is_string())
    throw Error(ErrorCode::Unavailable, head + "[" + kind_of(reply[0]) + ", " + kind_of(reply[1]) + "]");
  PreparedBackend p;
  p.base_url = reply[0].get<std::string>();
  p.api_key = reply[1].get<std::string>();
  size_t at = control_char_at(p.base_url);
  if (at != std::string::npos)
    throw Error(ErrorCode::Unavailable,
                "POST /_prepare_backend_for_training: the base_url it returned contains a control "
                "character (" +
                    describe_control_char(p.base_url, at) + ")");
  at = control_char_at(p.api_key);
  if (at != std::string::npos)
    throw Error(
        ErrorCode::Unavailable,
        "POST /_prepare_backend_for_training: the api_key it returned contains a control character (" +
            describe_control_char(p.api_key, at) + "); it is sent in an HTTP header, so it is refused");
  return p;
}

nlohmann::json parse_stream_line(std::string_view line, bool *nonfinite) {
  *nonfinite = false;
  try {
    return json::parse_checked(line, "training stream line", kMaxReplyDepth);
  } catch (const Error &) {
    std::string nulled;
    if (!null_nonfinite_values(line, nulled)) throw;
    nlohmann::json parsed;
    try {
      parsed = json::parse_checked(nulled, "training stream line", kMaxReplyDepth);
    } catch (const Error &) {
      // Report the line as the server sent it.
      return json::parse_checked(line, "training stream line", kMaxReplyDepth);
    }
    *nonfinite = true;
    return parsed;
  }
}

}  // namespace nat::art
