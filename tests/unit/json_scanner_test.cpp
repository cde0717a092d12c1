#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "json/scanner.h"

using nat::json::Kind;
using nat::json::Scanner;
using nat::json::SyntaxError;

namespace {

std::string skip(const std::string &text, int depth = 128) {
  Scanner s(text, depth);
  std::string out(s.skip_value());
  s.expect_end();
  return out;
}

void expect_invalid(const std::string &text, const std::string &fragment, int depth = 128) {
  try {
    skip(text, depth);
    FAIL() << "accepted: " << text;
  } catch (const SyntaxError &e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(JsonScanner, SkipsValidValuesAndReturnsTheirExactText) {
  for (const std::string v : {"0", "-0", "1.5e-3", "-12E+2", "true", "false", "null", "\"a\\u00e9\\n\"", "[]",
                              "{}", "[1,[2,{\"a\":[null]}]]", "{\"k\":{\"x\":\"y\"},\"z\":[true,false]}"}) {
    EXPECT_EQ(skip(v), v);
    EXPECT_EQ(skip("  \n\t" + v + " \r\n"), v);
  }
}

TEST(JsonScanner, RejectsMalformedJsonWithTheOffset) {
  expect_invalid("", "end of input");
  expect_invalid("[1,]", "trailing comma");
  expect_invalid("{\"a\":1,}", "trailing comma");
  expect_invalid("{\"a\" 1}", "expected ':'");
  expect_invalid("{a:1}", "expected a string key");
  expect_invalid("[1 2]", "expected ',' or ']'");
  expect_invalid("01", "unexpected data");
  expect_invalid("1.", "digits expected after '.'");
  expect_invalid("1e", "exponent");
  expect_invalid("NaN", "unexpected character 'N'");
  expect_invalid("Infinity", "unexpected character 'I'");
  expect_invalid("tru", "invalid literal");
  expect_invalid("\"abc", "unterminated string");
  expect_invalid("[1] [2]", "unexpected data");
  try {
    skip("[1,2,x]");
  } catch (const SyntaxError &e) {
    EXPECT_EQ(e.offset(), 5u);
  }
}

TEST(JsonScanner, ValidatesStringsStrictly) {
  expect_invalid(std::string("\"a\x01\""), "control character");
  expect_invalid("\"\\x\"", "invalid escape");
  expect_invalid("\"\\u12G4\"", "invalid \\u escape");
  expect_invalid("\"\\ud800\"", "unpaired UTF-16 surrogate");
  expect_invalid("\"\\udc00\\ud800\"", "unpaired UTF-16 surrogate");
  expect_invalid("\"\xff\"", "invalid UTF-8");
  expect_invalid("\"\xc0\xaf\"", "invalid UTF-8");          // overlong
  expect_invalid("\"\xed\xa0\x80\"", "invalid UTF-8");      // encoded surrogate
  expect_invalid("\"\xf4\x90\x80\x80\"", "invalid UTF-8");  // beyond U+10FFFF
  expect_invalid("\"\xe2\x82\"", "invalid UTF-8");          // truncated
  EXPECT_EQ(skip("\"\xe2\x82\xac \xf0\x9f\x98\x80 \\ud83d\\ude00\""),
            "\"\xe2\x82\xac \xf0\x9f\x98\x80 \\ud83d\\ude00\"");
}

TEST(JsonScanner, BoundsTheNestingDepth) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  expect_invalid(deep, "nesting deeper than 128 levels");
  EXPECT_EQ(skip(deep, 500), deep);
  std::string mixed;
  for (int i = 0; i < 64; ++i) mixed += "{\"a\":[";
  for (int i = 0; i < 64; ++i) mixed += "]}";
  expect_invalid(mixed, "nesting deeper than 100 levels", 100);
  EXPECT_EQ(skip(mixed, 128), mixed);
}

TEST(JsonScanner, DecodesEscapes) {
  EXPECT_EQ(Scanner::decode("a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00"),
            "a\"b\\c/d\n\t\xc3\xa9\xf0\x9f\x98\x80");
  Scanner s("{\"r\\u006fle\": \"x\"}");
  s.begin_object();
  std::string_view key;
  ASSERT_TRUE(s.next_key(key));
  EXPECT_EQ(Scanner::decode(key), "role");
  EXPECT_EQ(s.string_value(), "x");
  EXPECT_FALSE(s.next_key(key));
}

TEST(JsonScanner, WalksObjectsAndArrays) {
  Scanner s(R"({"a": [1, "two", {"b": null}], "c": true})");
  s.begin_object();
  std::string_view key;
  ASSERT_TRUE(s.next_key(key));
  EXPECT_EQ(key, "a");
  s.begin_array();
  ASSERT_TRUE(s.next_element());
  EXPECT_EQ(s.peek(), Kind::Number);
  EXPECT_EQ(s.number_raw(), "1");
  ASSERT_TRUE(s.next_element());
  EXPECT_EQ(s.string_value(), "two");
  ASSERT_TRUE(s.next_element());
  EXPECT_EQ(s.skip_value(), "{\"b\": null}");
  EXPECT_FALSE(s.next_element());
  ASSERT_TRUE(s.next_key(key));
  EXPECT_EQ(key, "c");
  EXPECT_TRUE(s.boolean());
  EXPECT_FALSE(s.next_key(key));
  s.expect_end();
}

TEST(JsonScanner, ParsesDoublesIncludingOverflow) {
  EXPECT_DOUBLE_EQ(nat::json::parse_double("0.25"), 0.25);
  EXPECT_DOUBLE_EQ(nat::json::parse_double("-1e-3"), -0.001);
  EXPECT_TRUE(std::isinf(nat::json::parse_double("1e400")));
  EXPECT_TRUE(std::isinf(nat::json::parse_double("-1e400")));
  EXPECT_EQ(nat::json::parse_double("1e-400"), 0.0);
}
