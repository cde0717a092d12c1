// The readers of an ART server's replies (art/replies.h), the redactor's
// quote (mask first, then cut), printable messages (nat::text) and the
// inference URL rewrite (libcurl's URL parser), without a server.
#include <gtest/gtest.h>

#include <string>

#include "art/art_client.h"
#include "art/replies.h"
#include "base/error.h"
#include "base/secret_redactor.h"
#include "json/small_json.h"

namespace {

using nat::ErrorCode;
using nat::SecretRedactor;

const std::string kKey = "Kx7Qp2Zr9Wm4Tn6Vb8Yc3Hd5Jf1Lg0Ns";

const SecretRedactor &redactor() {
  static const SecretRedactor *r = [] {
    auto *s = new SecretRedactor;
    s->add(kKey);
    return s;
  }();
  return *r;
}

void expect_no_piece_of_key(const std::string &text) {
  for (size_t i = 0; i + SecretRedactor::kMinFragment <= kKey.size(); ++i)
    ASSERT_EQ(text.find(kKey.substr(i, SecretRedactor::kMinFragment)), std::string::npos)
        << "offset " << i << ": " << text;
}

template <class F>
std::string error_of(F &&fn, ErrorCode code) {
  try {
    fn();
  } catch (const nat::Error &e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(PrintableText, EscapesInvalidBytesAndNulAndKeepsValidText) {
  EXPECT_EQ(nat::text::printable_text("plain \xe2\x82\xac text"), "plain \xe2\x82\xac text");
  EXPECT_EQ(nat::text::printable_text(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(nat::text::printable_text("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(nat::text::printable_text("\xe2\x82"), "\\xe2\\x82");                    // truncated sequence
  EXPECT_EQ(nat::text::printable_text("\xc0\xaf"), "\\xc0\\xaf");                    // overlong
  EXPECT_EQ(nat::text::printable_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate
  EXPECT_EQ(nat::text::printable_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // beyond U+10FFFF
  EXPECT_EQ(nat::text::printable_text("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
}

TEST(PrintableText, ErrorsAreAlwaysPrintable) {
  nat::Error e(ErrorCode::Unavailable, std::string("bad \xff byte and a \0 NUL", 22));
  EXPECT_STREQ(e.what(), "bad \\xff byte and a \\x00 NUL");
}

TEST(PrintableText, CutsNeverSplitACharacter) {
  const std::string text = "a\xe2\x82\xac\xf0\x9f\x98\x80z";  // a, euro (3), emoji (4), z
  for (size_t max = 0; max <= text.size() + 1; ++max) {
    size_t cut = nat::text::utf8_cut_point(text, max);
    EXPECT_LE(cut, max);
    EXPECT_TRUE(nat::text::is_printable(text.substr(0, cut))) << max;
  }
  EXPECT_EQ(nat::text::utf8_cut_point(text, 3), 1u);
  EXPECT_EQ(nat::text::utf8_cut_point(text, 4), 4u);
}

TEST(SecretRedactorQuote, MasksBeforeCuttingAtEveryPosition) {
  const SecretRedactor &r = redactor();
  for (size_t before = 0; before <= 60; ++before) {
    std::string text = std::string(before, 'x') + kKey + "tail";
    std::string quoted = r.quote(text, 40);
    expect_no_piece_of_key(quoted);
    EXPECT_TRUE(nat::text::is_printable(quoted));
    EXPECT_LE(quoted.size(), 40u + 2 + 3);
  }
}

TEST(SecretRedactorQuote, MasksAPieceOfTheKeyLeftByAnEarlierCut) {
  const SecretRedactor &r = redactor();
  // The bytes were cut before they arrived (a capped body): the key's first
  // 12 bytes end the text.
  std::string text = "error: Bearer " + kKey.substr(0, 12);
  std::string quoted = r.quote(text, 2000, true);
  expect_no_piece_of_key(quoted);
  EXPECT_EQ(quoted, "error: Bearer [redacted]...");
  // Shorter than 8 bytes: kept (it tells little about the key).
  EXPECT_EQ(r.quote("end " + kKey.substr(0, 7), 2000, true), "end " + kKey.substr(0, 7) + "...");
  // Not cut: a prefix of the key in the middle is just text.
  EXPECT_EQ(r.quote(kKey.substr(0, 12) + " and more", 2000), kKey.substr(0, 12) + " and more");
}

TEST(SecretRedactorQuote, AnEscapeNeverCompletesAKey) {
  SecretRedactor r;
  r.add("fuzzkey-0123456789");
  // \xff is shown as the four characters \xff: its last digit must not
  // complete the key.
  std::string quoted = r.quote("a \xffuzzkey-0123456789 b", 2000);
  EXPECT_EQ(quoted.find("fuzzkey-0123456789"), std::string::npos) << quoted;
  EXPECT_EQ(quoted, "a \\xf[redacted] b");
}

TEST(SecretRedactorQuote, MasksTheJsonEscapedFormsToo) {
  SecretRedactor r;
  const std::string key =
      "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87-secret/42";  // Cyrillic, as Python's json.dumps escapes it
  r.add(key);
  std::string escaped = "\\u043a\\u043b\\u044e\\u0447-secret/42";
  EXPECT_EQ(r.quote("{\"detail\": \"" + escaped + "\"}", 2000), "{\"detail\": \"[redacted]\"}");
  std::string cut = r.quote("xx" + escaped, 2 + 20);
  EXPECT_EQ(cut.find("\\u043a\\u043b"), std::string::npos) << cut;
}

TEST(ServerReplies, StepNumbersIn0To2Pow63Minus1) {
  const SecretRedactor &r = redactor();
  EXPECT_EQ(nat::art::parse_step_reply("0", r), 0);
  EXPECT_EQ(nat::art::parse_step_reply(" 42\n", r), 42);
  EXPECT_EQ(nat::art::parse_step_reply("9223372036854775807", r), INT64_MAX);
  for (const char *bad : {"18446744073709551615", "9223372036854775808", "-1", "1.0", "1e2", "\"3\"", "",
                          "[1]", "99999999999999999999999"}) {
    std::string m = error_of([&] { nat::art::parse_step_reply(bad, r); }, ErrorCode::Unavailable);
    EXPECT_EQ(m.rfind("POST /_get_step: expected a step number (an integer from 0 to 2^63-1), got ", 0), 0u)
        << m;
  }
  EXPECT_NE(error_of([&] { nat::art::parse_step_reply("18446744073709551615", r); }, ErrorCode::Unavailable)
                .find("18446744073709551615, which is out of range"),
            std::string::npos);
  std::string quoted =
      error_of([&] { nat::art::parse_step_reply("\"" + std::string(180, 'x') + kKey + "\"", r); },
               ErrorCode::Unavailable);
  expect_no_piece_of_key(quoted);
}

TEST(ServerReplies, PrepareRepliesAreDescribedNeverQuoted) {
  auto p = nat::art::parse_prepare_reply(R"(["http://0.0.0.0:8000/v1", "sk-abc"])");
  EXPECT_EQ(p.base_url, "http://0.0.0.0:8000/v1");
  EXPECT_EQ(p.api_key, "sk-abc");
  struct Case {
    std::string body, expected;
  };
  for (const Case &c : std::vector<Case>{
           {R"({"url": "secret-value-1"})", "got an object"},
           {R"(["a", "secret-value-1", "c"])", "got an array of 3 values"},
           {R"(["a", 7])", "got [a string, a number]"},
           {R"(["a", "secret-value-1")", "got something else (reply: invalid JSON at byte"},
           {"[" + std::string(200, '[') + std::string(201, ']'), "nesting deeper than 64 levels"},
           {R"(["http://x/v1", "secret\r\nX-Injected: 1"])",
            "the api_key it returned contains a control character (byte 0x0d at offset 6)"},
           {R"(["http://x/v1\u0000", "k"])",
            "the base_url it returned contains a control character (byte 0x00 at offset 11)"},
       }) {
    std::string m = error_of([&] { nat::art::parse_prepare_reply(c.body); }, ErrorCode::Unavailable);
    EXPECT_NE(m.find(c.expected), std::string::npos) << m;
    EXPECT_EQ(m.find("secret-value-1"), std::string::npos) << m;
  }
}

TEST(ServerReplies, ErrorDetailsOfAnyDepthAreQuotedShortened) {
  const SecretRedactor &r = redactor();
  const std::string deep = "{\"detail\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::string text = nat::art::http_error_text("POST /register", 500, deep, r);
  EXPECT_EQ(text.rfind("POST /register returned HTTP 500: {\"detail\":[[[[", 0), 0u);
  EXPECT_LE(text.size(), 40 + nat::art::kMaxQuotedDetail + 3);
  EXPECT_EQ(nat::art::http_error_text("POST /x", 101, "", r), "POST /x returned HTTP 101 with an empty body");
  EXPECT_EQ(nat::art::http_error_text("POST /x", 422, R"({"detail": "Field required"})", r),
            "POST /x returned HTTP 422: Field required");
  EXPECT_EQ(nat::art::http_error_text("POST /x", 422,
                                      R"({"detail": [{"msg": "bad", "input": ")" + kKey + "\"}]}", r),
            R"(POST /x returned HTTP 422: [{"input":"[redacted]","msg":"bad"}])");
}

TEST(ServerReplies, StreamLinesAreDepthLimited) {
  bool nonfinite = false;
  EXPECT_EQ(nat::art::parse_stream_line(R"({"loss": NaN})", &nonfinite), (nlohmann::json{{"loss", nullptr}}));
  EXPECT_TRUE(nonfinite);
  std::string deep = "{\"a\":" + std::string(65, '[') + std::string(65, ']') + "}";
  std::string m =
      error_of([&] { nat::art::parse_stream_line(deep, &nonfinite); }, ErrorCode::InvalidArgument);
  EXPECT_NE(m.find("nesting deeper than 64 levels"), std::string::npos) << m;
}

TEST(SmallJson, RefusesDuplicateKeysWhenAsked) {
  EXPECT_EQ(nat::json::parse_checked(R"({"a": 1, "a": 2})", "metrics")["a"], 2);
  for (const char *text : {R"({"a": 1, "a": 2})", R"({"x": {"b": 1, "b": 1}})",
                           R"([{"k": 1}, {"k": 2, "k": 3}])", R"({"\u0061": 1, "a": 2})"}) {
    std::string m =
        error_of([&] { nat::json::parse_checked(text, "metrics", 64, nat::json::DuplicateKeys::Refuse); },
                 ErrorCode::InvalidArgument);
    EXPECT_EQ(m.rfind("metrics: duplicate key \"", 0), 0u) << m;
  }
  EXPECT_NO_THROW(nat::json::parse_checked(R"({"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]})", "metrics", 64,
                                           nat::json::DuplicateKeys::Refuse));
}

TEST(InferenceUrl, TheHostIsReplacedWhereLibcurlWouldConnect) {
  using nat::art::rewrite_url_host;
  EXPECT_EQ(rewrite_url_host("http://0.0.0.0:8000/v1", "127.0.0.1"), "http://127.0.0.1:8000/v1");
  EXPECT_EQ(rewrite_url_host("https://0.0.0.0/v1?x=@evil", "gpu.local"), "https://gpu.local/v1?x=@evil");
  EXPECT_EQ(rewrite_url_host("http://0.0.0.0:8000/v1#@evil:1", "::1"), "http://[::1]:8000/v1");
  EXPECT_EQ(rewrite_url_host("HTTP://[::]:8000/v1", "10.0.0.2"), "http://10.0.0.2:8000/v1");
  for (const char *url :
       {"http://0.0.0.0:1@localhost:9/v1", "http://user@0.0.0.0:8000/v1", "http://u:p@h/v1"}) {
    std::string m = error_of([&] { rewrite_url_host(url, "127.0.0.1"); }, ErrorCode::Unavailable);
    EXPECT_NE(m.find("user-info"), std::string::npos) << url << ": " << m;
  }
  for (const char *url :
       {"ftp://0.0.0.0/v1", "file:///etc/passwd", "not a url", "", "//h/v1", "http://[::1"}) {
    std::string m = error_of([&] { rewrite_url_host(url, "127.0.0.1"); }, ErrorCode::Unavailable);
    EXPECT_EQ(m.find(url[0] ? url : "\x01"), std::string::npos) << "the URL is not quoted: " << m;
  }
  error_of([&] { rewrite_url_host("http://0.0.0.0:8000/v1\r\nX: 1", "127.0.0.1"); }, ErrorCode::Unavailable);
}

}  // namespace
