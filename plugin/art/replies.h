// Everything the adapter reads from an ART server's reply bodies, as pure
// functions of the bytes (no HTTP), so they can be tested and fuzzed alone.
//
// Every byte from a server is untrusted input. Replies are parsed with the
// same depth- and size-checked parser as user input (json::parse_checked:
// the scanner validates the grammar, UTF-8 and the nesting depth before
// nlohmann builds anything), so nothing is ever parsed, copied or dumped
// with unlimited recursion. Where a message quotes server bytes, it goes
// through SecretRedactor::quote: secrets masked first, then made valid UTF-8
// without NUL, then cut on a character boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "art/art_options.h"
#include "base/secret_redactor.h"
#include "http/http_client.h"

namespace nat::art {

// Nesting depth allowed in a server's reply (error details, the training
// stream's metric lines, /_prepare_backend_for_training, /_get_step). FastAPI
// error details are a few levels deep; a 422 that echoes the model body or a
// trajectory group stays well below this.
constexpr int kMaxReplyDepth = 64;
// /openapi.json is a schema document: deeper, and only ever looked up.
constexpr int kMaxOpenApiDepth = 256;
// How much of a server's error detail a message quotes.
constexpr size_t kMaxQuotedDetail = 2000;
// How much of an unexpected reply a message quotes.
constexpr size_t kMaxQuotedReply = 200;

// What the server's /openapi.json says about it.
struct ServerDialect {
  Dialect dialect = Dialect::V04;
  std::string beta_field = "beta";  // the TrainConfig field of the KL coefficient
  bool has_train_model = true;
  bool detected = false;  // false: /openapi.json was unavailable, defaults assumed
  std::string note;
};

// A 200 from /openapi.json. Never throws: an unreadable schema gives the
// 0.4.x defaults with a note.
ServerDialect parse_openapi_reply(std::string_view body);

// "<what> returned HTTP <status>: <detail>", the detail being the reply's
// {"detail": ...} when it has one, else the body, quoted (secrets masked,
// printable, at most kMaxQuotedDetail bytes); "<what> returned HTTP <status>
// with an empty body" when there is nothing to quote. body_was_cut: the body
// was truncated at its end before it got here (a capped error body).
std::string http_error_text(const std::string &what, long status, std::string_view body,
                            const SecretRedactor &secrets, bool body_was_cut = false);

// Just the quoted detail of an error reply ("" for an empty body).
std::string error_detail(std::string_view body, const SecretRedactor &secrets, bool body_was_cut = false);

// A 200 from /_get_step: a step number, 0 to 2^63-1. Anything else (not
// JSON, not an integer, negative, 2^64-1) throws nat::Error(Unavailable)
// saying what was wrong.
int64_t parse_step_reply(std::string_view body, const SecretRedactor &secrets);

// A 2xx from /_prepare_backend_for_training: [base_url, api_key]. Throws
// nat::Error(Unavailable) for any other shape (described, never quoted: a
// malformed reply may hold a key that is not known yet) and when either
// string holds a control character (the key goes into an HTTP header, the
// URL into the request line), naming the field.
struct PreparedBackend {
  std::string base_url;
  std::string api_key;
};
PreparedBackend parse_prepare_reply(std::string_view body);

// One NDJSON line of the training stream. Strict JSON first; failing that,
// the same line with NaN, Infinity and overflowing numbers as null
// (*nonfinite set). Throws nat::Error(InvalidArgument) for a line that is not
// JSON, nested deeper than kMaxReplyDepth or not valid UTF-8.
nlohmann::json parse_stream_line(std::string_view line, bool *nonfinite);

// control_char_at and describe_control_char (http/http_client.h), used here
// for the URL and key of /_prepare_backend_for_training.
using http::control_char_at;
using http::describe_control_char;

}  // namespace nat::art
