// The literal matcher of the usual token form (nat/usual_token_form.h) and
// the json::fast matchers under it must never accept what the general
// validation refuses: each test mutates typical serializations byte by byte
// and checks every input the fast path accepts against the general path.
#include "nat/usual_token_form.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "json/fast_scan.h"
#include "json/scanner.h"
#include "nat/collection_plan.h"

namespace {

// Python's json.dumps with default separators, as NAT writes collections.
const std::string kSpaced =
    R"({"token": "token_id:1234", "bytes": [116, 111, 107, 101, 110, 95], "logprob": -0.5623219795196346, )"
    R"("top_logprobs": [{"token": "token_id:1234", "bytes": null, "logprob": -0.5623219795196346}]})";
// Compact separators, several top entries, an empty bytes list, an exponent.
const std::string kCompact =
    R"({"token":"a","bytes":[],"logprob":-1.5e-7,"top_logprobs":[{"token":"a","bytes":[97],"logprob":0},)"
    R"({"token":"b","bytes":[98,0,10],"logprob":-3}]})";
const std::string kNoTop = R"({"token": "x", "bytes": null, "logprob": -0.25, "top_logprobs": []})";

const char *match(const std::string &s, bool with_top = true) {
  return nat::match_usual_token(s.data(), s.data() + s.size(), with_top);
}

// What the general path says about `token` as the only entry of
// logprobs.content: "" when valid, else the problem or the syntax error.
std::string general_verdict(const std::string &token) {
  try {
    nat::json::Scanner only(token);
    only.skip_value();
    only.expect_end();
    return nat::choice_logprobs_problem(R"({"content": [)" + token + "]}", 128);
  } catch (const std::exception &e) {
    return std::string("error: ") + e.what();
  }
}

TEST(UsualTokenForm, MatchesTheUsualSerializations) {
  for (const std::string &s : {kSpaced, kCompact, kNoTop}) {
    const char *past = match(s);
    ASSERT_NE(past, nullptr) << s;
    EXPECT_EQ(past, s.data() + s.size()) << s;
    EXPECT_EQ(general_verdict(s), "") << s;
  }
}

TEST(UsualTokenForm, StopsAtTheEndOfTheObject) {
  std::string s = kSpaced + ", {\"token\": 1}]";
  EXPECT_EQ(match(s), s.data() + kSpaced.size());
}

TEST(UsualTokenForm, LeavesOtherFormsToTheGeneralPath) {
  for (const std::string &s : {
           // other key order, escaped key, extra key, logprob as a string
           std::string(R"({"bytes": null, "token": "x", "logprob": -1, "top_logprobs": []})"),
           std::string(R"({"tok\u0065n": "x", "bytes": null, "logprob": -1, "top_logprobs": []})"),
           std::string(R"({"token": "x", "bytes": null, "logprob": -1, "top_logprobs": [], "extra": 1})"),
           std::string(R"({"token": "x", "bytes": null, "logprob": "-1", "top_logprobs": []})"),
           // a token with an escape or non-ASCII text
           std::string(R"({"token": "\n", "bytes": [10], "logprob": -1, "top_logprobs": []})"),
           std::string(
               "{\"token\": \"\xc3\xa9\", \"bytes\": [195, 169], \"logprob\": -1, \"top_logprobs\": []}"),
       }) {
    EXPECT_EQ(match(s), nullptr) << s;
    EXPECT_EQ(general_verdict(s), "") << s;  // still valid, just not the usual form
  }
  // top_logprobs is required of a ChatCompletionTokenLogprob, refused in a TopLogprob.
  std::string no_top = R"({"token": "x", "bytes": null, "logprob": -1})";
  EXPECT_EQ(match(no_top, true), nullptr);
  EXPECT_NE(match(no_top, false), nullptr);
  EXPECT_NE(general_verdict(no_top), "");
  EXPECT_EQ(match(kNoTop, false), nullptr);
}

// Every single-byte deletion, substitution and insertion of the usual forms:
// whatever the matcher accepts, the general path accepts too, and the matcher
// both accepts and refuses some of them (so the property is not vacuous).
TEST(UsualTokenForm, AcceptsNothingTheGeneralPathRefuses) {
  const std::string alphabet = std::string(" \n\t0123456789-+.eE,:[]{}\"\\xnul") + "\x01\x80\xff";
  size_t accepted = 0, refused = 0, checked = 0;
  auto probe = [&](const std::string &m) {
    const char *past = match(m);
    ++checked;
    if (past == nullptr) {
      ++refused;
      return;
    }
    ++accepted;
    std::string value(m.data(), past);
    ASSERT_EQ(general_verdict(value), "") << "fast path accepted: " << value;
  };
  for (const std::string &base : {kSpaced, kCompact}) {
    for (size_t i = 0; i < base.size(); ++i) {
      probe(base.substr(0, i) + base.substr(i + 1));
      for (char c : alphabet) {
        std::string sub = base;
        sub[i] = c;
        probe(sub);
        probe(base.substr(0, i) + c + base.substr(i));
      }
    }
  }
  EXPECT_GT(accepted, 100u);
  EXPECT_GT(refused, 1000u);
  EXPECT_GT(checked, 10000u);
}

// Lists of tokens: the same property, at the level of the list.
TEST(UsualTokenForm, ListMatcherAcceptsNothingTheGeneralPathRefuses) {
  const std::string base = "[" + kSpaced + ", " + kCompact + ",\n " + kNoTop + "]";
  auto list_verdict = [](const std::string &list) {
    try {
      nat::json::Scanner only(list);
      only.skip_value();
      only.expect_end();
      return nat::choice_logprobs_problem(R"({"content": )" + list + "}", 128);
    } catch (const std::exception &e) {
      return std::string("error: ") + e.what();
    }
  };
  auto list_match = [](const std::string &m) {
    return nat::match_usual_token_list(m.data(), m.data() + m.size());
  };
  ASSERT_EQ(list_match(base), base.data() + base.size());
  for (std::string empty : {"[]", "[ ]"}) EXPECT_EQ(list_match(empty), empty.data() + empty.size());
  EXPECT_EQ(list_match(""), nullptr);
  size_t accepted = 0, refused = 0;
  const std::string alphabet = " \n,]}[{x0\"";
  for (size_t i = 0; i < base.size(); ++i) {
    for (char c : alphabet) {
      for (const std::string &m :
           {base.substr(0, i) + c + base.substr(i + 1), base.substr(0, i) + c + base.substr(i),
            base.substr(0, i) + base.substr(i + 1)}) {
        const char *past = list_match(m);
        if (past == nullptr) {
          ++refused;
          continue;
        }
        ++accepted;
        ASSERT_EQ(list_verdict(std::string(m.data(), past)), "") << m;
      }
    }
  }
  EXPECT_GT(accepted, 100u);
  EXPECT_GT(refused, 1000u);
}

// The integer-list matcher against the scanner on random lists: with and
// without 64 readable bytes after them (the vector path and the byte loop).
TEST(FastIntArray, AgreesWithTheScanner) {
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {"0",  "1",  "7",   "10",  "116", "255", "01",
                                           "00", "-1", "1.5", "1e2", ",",   ", ",  " ,",
                                           ",,", " ",  "\n",  "]",   "[",   "x",   "\"a\""};
  size_t fast_accepted = 0, scanner_accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string list = "[";
    int n = static_cast<int>(rng() % 12);
    bool structured = rng() % 2 == 0;
    for (int i = 0; i < n; ++i) {
      if (structured) {
        if (i > 0) list += rng() % 4 ? ", " : ",";
        list += pieces[rng() % 6];
      } else {
        list += pieces[rng() % pieces.size()];
      }
    }
    list += "]";
    for (bool padded : {false, true}) {
      std::string text = padded ? list + std::string(80, ' ') : list;
      const char *past = nat::json::fast::plain_int_array(text.data(), text.data() + text.size());
      bool scanner_ok = true;
      size_t scanner_len = 0;
      try {
        nat::json::Scanner s(text);
        s.skip_value();
        scanner_len = s.offset();
      } catch (const nat::json::SyntaxError &) {
        scanner_ok = false;
      }
      scanner_accepted += scanner_ok;
      if (past == nullptr) continue;
      ++fast_accepted;
      ASSERT_TRUE(scanner_ok) << "fast path accepted invalid " << list;
      ASSERT_EQ(static_cast<size_t>(past - text.data()), scanner_len) << list;
    }
    if (structured) {
      // Lists of plain integers with the usual separators always take the fast path.
      std::string padded = list + std::string(80, ' ');
      bool plain = list.find("01") == std::string::npos && list.find("00") == std::string::npos &&
                   list.find('-') == std::string::npos && list.find('.') == std::string::npos &&
                   list.find('e') == std::string::npos;
      if (plain) {
        EXPECT_NE(nat::json::fast::plain_int_array(padded.data(), padded.data() + padded.size()), nullptr)
            << list;
      }
    }
  }
  EXPECT_GT(fast_accepted, 1000u);
  EXPECT_GT(scanner_accepted, fast_accepted / 2);
}

TEST(FastScan, StringStopFindsTheFirstSpecialByte) {
  for (size_t len = 0; len < 70; ++len) {
    for (char special : {'"', '\\', '\x1f', '\x80'}) {
      std::string s(len, 'a');
      s += special;
      s += std::string(20, 'b');
      auto u = reinterpret_cast<const unsigned char *>(s.data());
      EXPECT_EQ(nat::json::fast::string_stop(u, u + s.size()) - u, static_cast<long>(len));
    }
  }
  std::string none(40, 'a');
  auto u = reinterpret_cast<const unsigned char *>(none.data());
  EXPECT_EQ(nat::json::fast::string_stop(u, u + none.size()), u + none.size());
}

TEST(FastScan, DigitsStopAtTheFirstNonDigit) {
  for (size_t len = 0; len < 40; ++len) {
    for (char after : {'.', '/', ':', ' ', 'e', '\0'}) {
      std::string s(len, '7');
      s += after;
      s += "123";
      EXPECT_EQ(nat::json::fast::digits(s.data(), s.data() + s.size()) - s.data(), static_cast<long>(len));
    }
  }
}

TEST(UsualTokenForm, RespectsTheDepthLimitThroughTheScanner) {
  // kCompact nests kUsualTokenLevels deep below content (a top entry's
  // bytes list); with a depth limit one short of that, the fast path steps
  // aside and the general path reports the limit.
  std::string logprobs = R"({"content": [)" + kCompact + "]}";
  EXPECT_EQ(nat::choice_logprobs_problem(logprobs, 2 + nat::kUsualTokenLevels), "");
  EXPECT_THROW(nat::choice_logprobs_problem(logprobs, 1 + nat::kUsualTokenLevels), nat::json::SyntaxError);
}

}  // namespace
