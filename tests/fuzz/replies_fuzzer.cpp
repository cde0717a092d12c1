// libFuzzer harness: the readers of an ART server's replies (art/replies.h),
// fed arbitrary bytes: every unary route's reply parser, the error detail a
// message quotes, the training stream's line parser, and the redactor's
// quote (mask, make printable, cut).
//
// Input layout:
//   byte 0     selects the reader, byte0 % 6 (seed files start with the
//              digit): 0 /_get_step, 1 /_prepare_backend_for_training,
//              2 /openapi.json, 3 an error reply (http_error_text),
//              4 a training stream line, 5 SecretRedactor::quote
//   byte 1     for 3: bit 0 = the body was cut before it arrived;
//              for 5: the cut, max_bytes = byte1 * 4 (and bit 0 = input cut)
//   the rest   the reply body (for 5: the text)
//
// Contract checked: each reader returns or throws nat::Error with the code it
// documents (Unavailable for the unary replies, InvalidArgument for a stream
// line; parse_openapi_reply never throws); every message and quoted text is
// valid UTF-8 without NUL and never holds a registered key; a step is in
// 0..2^63-1 and equals the body's integer; a prepared backend's strings hold
// no control character; quoted text stays within its cut (plus the mask and
// "...") and is the text itself when nothing needed changing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "art/replies.h"
#include "base/error.h"
#include "base/secret_redactor.h"
#include "json/small_json.h"

namespace {

[[noreturn]] void invariant_failed(const char *what) {
  std::fprintf(stderr, "replies_fuzzer: invariant failed: %s\n", what);
  std::abort();
}
#define CHECK(cond)                       \
  do {                                    \
    if (!(cond)) invariant_failed(#cond); \
  } while (0)

const char *const kKeys[] = {"fuzzkey-0123456789", "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87-secret-42"};

const nat::SecretRedactor &secrets() {
  static const nat::SecretRedactor *r = [] {
    auto *s = new nat::SecretRedactor;
    for (const char *k : kKeys) s->add(k);
    return s;
  }();
  return *r;
}

void check_text(const std::string &text) {
  CHECK(nat::text::is_printable(text));
  for (const char *k : kKeys) CHECK(text.find(k) == std::string::npos);
}

template <class F>
void expect_error(F &&fn, nat::ErrorCode code) {
  try {
    fn();
  } catch (const nat::Error &e) {
    CHECK(e.code() == code);
    check_text(e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  const int which = data[0] % 6;
  const uint8_t flags = data[1];
  std::string_view body(reinterpret_cast<const char *>(data + 2), size - 2);
  switch (which) {
    case 0:
      expect_error(
          [&] {
            int64_t step = nat::art::parse_step_reply(body, secrets());
            CHECK(step >= 0);
            nlohmann::json j = nlohmann::json::parse(body.begin(), body.end());
            CHECK(j.is_number_integer() && j.get<int64_t>() == step);
          },
          nat::ErrorCode::Unavailable);
      break;
    case 1:
      expect_error(
          [&] {
            nat::art::PreparedBackend p = nat::art::parse_prepare_reply(body);
            CHECK(nat::art::control_char_at(p.base_url) == std::string::npos);
            CHECK(nat::art::control_char_at(p.api_key) == std::string::npos);
          },
          nat::ErrorCode::Unavailable);
      break;
    case 2: {
      nat::art::ServerDialect d = nat::art::parse_openapi_reply(body);
      check_text(d.note);
      CHECK(d.beta_field == "beta" || d.beta_field == "kl_penalty_coef");
      break;
    }
    case 3: {
      std::string text = nat::art::http_error_text("POST /_train_model", 500, body, secrets(), flags & 1);
      check_text(text);
      CHECK(text.size() <= 64 + nat::art::kMaxQuotedDetail + 16);
      break;
    }
    case 4:
      expect_error(
          [&] {
            bool nonfinite = false;
            nlohmann::json line = nat::art::parse_stream_line(body, &nonfinite);
            (void)nat::json::dump(line);
          },
          nat::ErrorCode::InvalidArgument);
      break;
    default: {
      const size_t max_bytes = static_cast<size_t>(flags) * 4;
      const bool was_cut = flags & 1;
      std::string quoted = secrets().quote(body, max_bytes, was_cut);
      check_text(quoted);
      CHECK(quoted.size() <= max_bytes + std::strlen(nat::SecretRedactor::kMask) + 3);
      // Nothing to mask (no key in any of its forms), nothing to escape,
      // nothing to cut: the text itself.
      if (!was_cut && body.size() <= max_bytes && nat::text::is_printable(body) &&
          secrets().redact(std::string(body)) == body)
        CHECK(quoted == body);
      break;
    }
  }
  return 0;
}
