// The shape OpenAI's pydantic models accept for Choice.logprobs, as NAT's
// conversion meets it: ChoiceLogprobs{content, refusal: list of
// ChatCompletionTokenLogprob | None}, ChatCompletionTokenLogprob{token: str,
// bytes: list[int] | None, logprob: float, top_logprobs: list[TopLogprob]},
// TopLogprob{token: str, bytes: list[int] | None, logprob: float}. Extra keys
// are allowed (OpenAI models keep them). Numbers follow pydantic's lax mode
// where JSON can express it: integers pass as floats, integral floats as ints,
// booleans as numbers.
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include "json/scanner.h"
#include "nat/collection_plan.h"
#include "nat/lax_number.h"
#include "nat/usual_token_form.h"

namespace nat {

namespace {

using json::Kind;
using json::Scanner;

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
    if (is_float_string(s.string_value())) return {};
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
    bool integral_text = true;
    for (char c : t) integral_text = integral_text && c != '.' && c != 'e' && c != 'E';
    if (integral_text) return {};
    double v = json::parse_double(t);
    if (std::isfinite(v) && v == std::floor(v)) return {};
    return std::string(what) + " must be an integer";
  }
  if (k == Kind::True || k == Kind::False) {
    s.boolean();
    return {};
  }
  if (k == Kind::String) {
    if (is_int_string(s.string_value())) return {};
    return std::string(what) + " is a string that is not an integer";
  }
  s.skip_value();
  return std::string(what) + " must be an integer, not " + json::kind_name(k);
}

// Where a problem is, built only when there is one: the hot path of a valid
// collection allocates nothing here.
struct TokenPath {
  const char *list;     // "logprobs.content" or "logprobs.refusal"
  size_t index;         // into that list
  long top_index = -1;  // into top_logprobs, or -1
  std::string str() const {
    std::string s = std::string(list) + "[" + std::to_string(index) + "]";
    if (top_index >= 0) s += ".top_logprobs[" + std::to_string(top_index) + "]";
    return s;
  }
};

std::string check_bytes(Scanner &s, const TokenPath &where) {
  Kind k = s.peek();
  if (k == Kind::Null) {
    s.null();
    return {};
  }
  if (k != Kind::Array) {
    s.skip_value();
    return where.str() + ".bytes must be a list of integers or null";
  }
  // The common case, a list of plain non-negative integers, in one tight loop.
  if (s.skip_plain_int_array()) return {};
  s.begin_array();
  std::string problem;
  size_t i = 0;
  while (s.next_element()) {
    std::string p = check_int(s, "a byte");
    if (problem.empty() && !p.empty()) problem = where.str() + ".bytes[" + std::to_string(i) + "]: " + p;
    ++i;
  }
  return problem;
}

// TopLogprob (where.top_index >= 0) or ChatCompletionTokenLogprob.
std::string check_token(Scanner &s, const TokenPath &where) {
  const bool with_top = where.top_index < 0;
  if (s.peek() != Kind::Object) {
    Kind k = s.peek();
    s.skip_value();
    return where.str() + " must be an object, not " + json::kind_name(k);
  }
  s.begin_object();
  std::string problem;
  bool has_token = false, has_logprob = false, has_top = false;
  std::string_view key;
  auto note = [&](std::string p) {
    if (problem.empty() && !p.empty()) problem = std::move(p);
  };
  while (s.next_key(key)) {
    if (Scanner::key_equals(key, "token")) {
      has_token = true;
      if (s.peek() != Kind::String) {
        Kind k = s.peek();
        s.skip_value();
        note(where.str() + ".token must be a string, not " + json::kind_name(k));
      } else {
        s.string_raw();
      }
    } else if (Scanner::key_equals(key, "logprob")) {
      has_logprob = true;
      std::string p = check_float(s, "logprob");
      if (!p.empty()) note(where.str() + "." + p);
    } else if (Scanner::key_equals(key, "bytes")) {
      std::string p = check_bytes(s, where);
      if (!p.empty()) note(std::move(p));
    } else if (with_top && Scanner::key_equals(key, "top_logprobs")) {
      has_top = true;
      if (s.peek() != Kind::Array) {
        Kind k = s.peek();
        s.skip_value();
        note(where.str() + ".top_logprobs must be a list, not " + json::kind_name(k));
      } else {
        s.begin_array();
        long i = 0;
        while (s.next_element()) {
          TokenPath top = where;
          top.top_index = i++;
          std::string p = check_token(s, top);
          if (!p.empty()) note(std::move(p));
        }
      }
    } else {
      s.skip_value();
    }
  }
  if (!problem.empty()) return problem;
  if (!has_token) return where.str() + " has no 'token'";
  if (!has_logprob) return where.str() + " has no 'logprob'";
  if (with_top && !has_top) return where.str() + " has no 'top_logprobs'";
  return {};
}

std::string check_token_list(Scanner &s, const char *list) {
  Kind k = s.peek();
  if (k == Kind::Null) {
    s.null();
    return {};
  }
  if (k != Kind::Array) {
    s.skip_value();
    return std::string(list) + " must be a list or null, not " + json::kind_name(k);
  }
  // A list of tokens all in the usual form is passed over in one go; any
  // other list is checked element by element below (and its usual elements
  // are still matched one at a time).
  const char *usual_list = match_usual_token_list(s.value_start(), s.end());
  if (usual_list != nullptr && s.skip_matched(usual_list, 1 + kUsualTokenLevels)) return {};
  s.begin_array();
  std::string problem;
  size_t i = 0;
  while (s.next_element()) {
    const char *usual = match_usual_token(s.value_start(), s.end(), true);
    if (usual != nullptr && s.skip_matched(usual, kUsualTokenLevels)) {
      ++i;
      continue;
    }
    std::string p = check_token(s, TokenPath{list, i});
    if (problem.empty() && !p.empty()) problem = std::move(p);
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
    if (Scanner::key_equals(key, "content")) {
      p = check_token_list(s, "logprobs.content");
    } else if (Scanner::key_equals(key, "refusal")) {
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
