#include "nat/usual_token_form.h"

#include "json/fast_scan.h"

namespace nat {

namespace {

namespace f = json::fast;

// The separator or opening before a key, the key and its colon: tried first
// as one literal in json.dumps' spacing (`spaced`, e.g. `, "bytes": `), then
// with any whitespace (`punct` is the separator, `key` the quoted key with
// its colon). Returns the start of the value.
template <size_t N, size_t M>
inline const char *field(const char *p, const char *end, const char (&spaced)[N], char punct,
                         const char (&key)[M]) {
  if (const char *q = f::literal(p, end, spaced)) {
    return q < end && static_cast<unsigned char>(*q) <= ' ' ? f::ws(q, end) : q;
  }
  if (!(p = f::punct(p, end, punct))) return nullptr;
  return f::key(p, end, key);
}

}  // namespace

const char *match_usual_token(const char *p, const char *end, bool with_top) {
  if (!(p = field(p, end, "{\"token\": ", '{', "\"token\":"))) return nullptr;
  if (!(p = f::plain_string(p, end))) return nullptr;
  if (!(p = field(p, end, ", \"bytes\": ", ',', "\"bytes\":"))) return nullptr;
  const char *after_null = f::literal(p, end, "null");
  if (!(p = after_null ? after_null : f::plain_int_array(p, end))) return nullptr;
  if (!(p = field(p, end, ", \"logprob\": ", ',', "\"logprob\":"))) return nullptr;
  if (!(p = f::number(p, end))) return nullptr;
  if (with_top) {
    if (!(p = field(p, end, ", \"top_logprobs\": ", ',', "\"top_logprobs\":"))) return nullptr;
    if (!(p = f::literal(p, end, "["))) return nullptr;
    p = f::ws_after_separator(p, end);
    if (p < end && *p == ']') {
      ++p;
    } else {
      for (;;) {
        if (!(p = match_usual_token(p, end, false))) return nullptr;
        if (p < end && *p == ']') {
          ++p;
          break;
        }
        if (!(p = f::punct(p, end, ','))) return nullptr;
      }
    }
  }
  if (p < end && *p == '}') return p + 1;
  p = f::ws(p, end);
  return f::literal(p, end, "}");
}

const char *match_usual_token_list(const char *p, const char *end) {
  if (!(p = f::literal(p, end, "["))) return nullptr;
  p = f::ws_after_separator(p, end);
  if (p < end && *p == ']') return p + 1;
  for (;;) {
    if (!(p = match_usual_token(p, end, true))) return nullptr;
    if (const char *q = f::literal(p, end, ", ")) {
      p = q;
      continue;
    }
    if (p < end && *p == ']') return p + 1;
    if (!(p = f::punct(p, end, ','))) return nullptr;
  }
}

}  // namespace nat
