// The shape OpenAI's pydantic models accept for Choice.logprobs, as NAT's
// conversion meets it: ChoiceLogprobs{content, refusal: list of
// ChatCompletionTokenLogprob | None}, ChatCompletionTokenLogprob{token: str,
// bytes: list[int] | None, logprob: float, top_logprobs: list[TopLogprob]},
// TopLogprob{token: str, bytes: list[int] | None, logprob: float}. Extra keys
// are allowed (OpenAI models keep them). Numbers follow pydantic's lax mode
// where JSON can express it: integers pass as floats, integral floats as ints,
// booleans as numbers.
#include <cmath>
#include <cstdlib>
#include <string>

#include "json/scanner.h"
#include "nat/collection_plan.h"

namespace nat {

namespace {

using json::Kind;
using json::Scanner;

bool is_numeric_string(std::string_view decoded, bool integer) {
  // pydantic's lax mode parses numbers from strings, surrounding whitespace allowed.
  size_t b = decoded.find_first_not_of(" \t\n\r");
  size_t e = decoded.find_last_not_of(" \t\n\r");
  if (b == std::string_view::npos) return false;
  std::string s(decoded.substr(b, e - b + 1));
  const char *c = s.c_str();
  char *end = nullptr;
  if (integer) {
    if (*c == '+' || *c == '-') ++c;
    if (!*c) return false;
    for (const char *q = c; *q; ++q)
      if ((*q < '0' || *q > '9') && *q != '_') return false;
    return true;
  }
  std::strtod(c, &end);
  return end && *end == '\0' && end != c;
}

// A float field: a number, a boolean or a numeric string.
std::string check_float(Scanner &s, const char *what) {
  Kind k = s.peek();
  if (k == Kind::Number) {
    s.number_raw();
    return {};
  }
  if (k == Kind::True || k == Kind::False) {
    s.boolean();
    return {};
  }
  if (k == Kind::String) {
    if (is_numeric_string(s.string_value(), false)) return {};
    return std::string(what) + " is a string that is not a number";
  }
  s.skip_value();
  return std::string(what) + " must be a number, not " + json::kind_name(k);
}

// An int field: an integer, an integral float, a boolean or an integer string.
std::string check_int(Scanner &s, const char *what) {
  Kind k = s.peek();
  if (k == Kind::Number) {
    std::string_view t = s.number_raw();
    double v = json::parse_double(t);
    if (std::isfinite(v) && v == std::floor(v)) return {};
    return std::string(what) + " must be an integer";
  }
  if (k == Kind::True || k == Kind::False) {
    s.boolean();
    return {};
  }
  if (k == Kind::String) {
    if (is_numeric_string(s.string_value(), true)) return {};
    return std::string(what) + " is a string that is not an integer";
  }
  s.skip_value();
  return std::string(what) + " must be an integer, not " + json::kind_name(k);
}

std::string check_bytes(Scanner &s, const std::string &where) {
  Kind k = s.peek();
  if (k == Kind::Null) {
    s.null();
    return {};
  }
  if (k != Kind::Array) {
    s.skip_value();
    return where + ".bytes must be a list of integers or null";
  }
  s.begin_array();
  std::string problem;
  size_t i = 0;
  while (s.next_element()) {
    std::string p = check_int(s, "a byte");
    if (problem.empty() && !p.empty()) problem = where + ".bytes[" + std::to_string(i) + "]: " + p;
    ++i;
  }
  return problem;
}

// TopLogprob or ChatCompletionTokenLogprob (with_top: the latter).
std::string check_token(Scanner &s, const std::string &where, bool with_top) {
  if (s.peek() != Kind::Object) {
    Kind k = s.peek();
    s.skip_value();
    return where + " must be an object, not " + json::kind_name(k);
  }
  s.begin_object();
  std::string problem;
  bool has_token = false, has_logprob = false, has_top = false;
  std::string_view key;
  auto note = [&](std::string p) {
    if (problem.empty() && !p.empty()) problem = std::move(p);
  };
  while (s.next_key(key)) {
    if (key == "token") {
      has_token = true;
      if (s.peek() != Kind::String) {
        Kind k = s.peek();
        s.skip_value();
        note(where + ".token must be a string, not " + json::kind_name(k));
      } else {
        s.string_raw();
      }
    } else if (key == "logprob") {
      has_logprob = true;
      std::string p = check_float(s, "logprob");
      if (!p.empty()) note(where + "." + p);
    } else if (key == "bytes") {
      note(check_bytes(s, where));
    } else if (with_top && key == "top_logprobs") {
      has_top = true;
      if (s.peek() != Kind::Array) {
        Kind k = s.peek();
        s.skip_value();
        note(where + ".top_logprobs must be a list, not " + json::kind_name(k));
      } else {
        s.begin_array();
        size_t i = 0;
        while (s.next_element()) {
          note(check_token(s, where + ".top_logprobs[" + std::to_string(i) + "]", false));
          ++i;
        }
      }
    } else {
      s.skip_value();
    }
  }
  if (!problem.empty()) return problem;
  if (!has_token) return where + " has no 'token'";
  if (!has_logprob) return where + " has no 'logprob'";
  if (with_top && !has_top) return where + " has no 'top_logprobs'";
  return {};
}

std::string check_token_list(Scanner &s, const std::string &where) {
  Kind k = s.peek();
  if (k == Kind::Null) {
    s.null();
    return {};
  }
  if (k != Kind::Array) {
    s.skip_value();
    return where + " must be a list or null, not " + json::kind_name(k);
  }
  s.begin_array();
  std::string problem;
  size_t i = 0;
  while (s.next_element()) {
    std::string p = check_token(s, where + "[" + std::to_string(i) + "]", true);
    if (problem.empty()) problem = std::move(p);
    ++i;
  }
  return problem;
}

}  // namespace

std::string scan_choice_logprobs(json::Scanner &s) {
  Kind k = s.peek();
  if (k != Kind::Object) {
    s.skip_value();
    return std::string("logprobs must be an object (OpenAI ChoiceLogprobs), not ") + json::kind_name(k);
  }
  s.begin_object();
  std::string_view key;
  std::string problem;
  while (s.next_key(key)) {
    std::string p;
    if (key == "content") {
      p = check_token_list(s, "logprobs.content");
    } else if (key == "refusal") {
      p = check_token_list(s, "logprobs.refusal");
    } else {
      s.skip_value();
    }
    if (problem.empty()) problem = std::move(p);
  }
  return problem;
}

std::string choice_logprobs_problem(std::string_view logprobs_json, int max_depth) {
  Scanner s(logprobs_json, max_depth);
  std::string problem = scan_choice_logprobs(s);
  s.expect_end();
  return problem;
}

}  // namespace nat
