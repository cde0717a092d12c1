#include "collection_generator.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace nat::bench {

namespace {

// splitmix64: small, fast and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  uint64_t below(uint64_t n) { return next() % n; }
  // Box-Muller; one value per call keeps the sequence simple.
  double gauss(double mean, double sigma) {
    double u1 = uniform();
    double u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return mean + sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

// The words of the texts, as raw UTF-8 (escaped when written).
constexpr std::string_view kWords[] = {
    "move", "board",   "X",    "O",       "win",         "draw",        "row",       "col",     "player",
    "next", "ünïcödé", "漢字", "emoji 🎲", "quote \"q\"", "back\\slash", "tab\tchar", "nl\nline"};
constexpr size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

std::string text(Rng &rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s.push_back(' ');
    s.append(kWords[rng.below(kWordCount)]);
  }
  return s;
}

// A JSON string literal, escaped as Python's json.dumps(ensure_ascii=False).
void put_string(std::string &out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void put_double(std::string &out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  out.append(s);
  // Python writes floats with a fraction or an exponent: 1.0, not 1.
  if (s.find_first_of(".eEn") == std::string_view::npos) out += ".0";
}

void put_int(std::string &out, long long v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void put_logprobs(std::string &out, Rng &rng, int tokens) {
  out += "{\"content\": [";
  for (int k = 0; k < tokens; ++k) {
    if (k) out += ", ";
    std::string tok = "token_id:" + std::to_string(rng.below(152000));
    double lp = -std::fabs(rng.gauss(0.0, 1.5));
    out += "{\"token\": ";
    put_string(out, tok);
    out += ", \"bytes\": [";
    for (size_t b = 0; b < 6 && b < tok.size(); ++b) {
      if (b) out += ", ";
      put_int(out, static_cast<unsigned char>(tok[b]));
    }
    out += "], \"logprob\": ";
    put_double(out, lp);
    out += ", \"top_logprobs\": [{\"token\": ";
    put_string(out, tok);
    out += ", \"bytes\": null, \"logprob\": ";
    put_double(out, lp);
    out += "}]}";
  }
  out += "], \"refusal\": null}";
}

void put_item(std::string &out, std::string_view role, const std::string &content) {
  out += "{\"role\": ";
  put_string(out, role);
  out += ", \"content\": ";
  put_string(out, content);
}

void put_episode(std::string &out, Rng &rng, int turns, int tokens) {
  out += '[';
  put_item(out, "system", "You are a tic-tac-toe player. " + text(rng, 8));
  out += ", \"logprobs\": null, \"metadata\": null}, ";
  put_item(out, "user", text(rng, 20));
  out += ", \"logprobs\": null, \"metadata\": null}";
  for (int t = 0; t < turns; ++t) {
    out += ", ";
    put_item(out, "assistant", "<move>" + text(rng, tokens / 4) + "</move>");
    out += ", \"logprobs\": ";
    put_logprobs(out, rng, tokens);
    out += ", \"metadata\": null}";
    if (t + 1 < turns) {
      if (rng.uniform() < 0.3) {
        // Tool output: JSON text inside a string, as json.dumps({"board": ...}).
        std::string board = "{\"board\": ";
        put_string(board, text(rng, 5));
        board += '}';
        out += ", ";
        put_item(out, "tool", board);
        out += ", \"logprobs\": null, \"metadata\": {\"tool_call_id\": ";
        put_string(out, "call_" + std::to_string(t));
        out += ", \"name\": \"get_board\"}}";
      }
      out += ", ";
      put_item(out, "user", text(rng, 12));
      out += ", \"logprobs\": null, \"metadata\": null}";
    }
  }
  out += ']';
}

void put_group(std::string &out, Rng &rng, const CollectionShape &s, int g, const std::string &run_id) {
  out += '[';
  for (int n = 0; n < s.generations; ++n) {
    if (n) out += ", ";
    out += "{\"episode\": ";
    put_episode(out, rng, s.turns, s.tokens);
    out += ", \"reward\": ";
    put_double(out, std::round(rng.uniform() * 1e4) / 1e4);
    out += ", \"shaped_rewards\": null, \"metadata\": {\"id\": ";
    put_int(out, g);
    out += ", \"reasoning\": ";
    put_string(out, text(rng, 6));
    out += ", \"run_id\": ";
    put_string(out, run_id);
    out += ", \"generation\": ";
    put_int(out, n);
    out += "}}";
  }
  out += ']';
}

std::string run_id_of(uint64_t seed) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "art_run_%08llx", static_cast<unsigned long long>(seed & 0xffffffffull));
  return buf;
}

std::string generate(const CollectionShape &shape, int groups, size_t target_bytes, int *groups_out) {
  Rng rng(shape.seed);
  const std::string run_id = run_id_of(shape.seed);
  std::string out;
  out.reserve(target_bytes ? target_bytes + (2u << 20) : 1u << 20);
  out += "{\"trajectories\": [";
  int g = 0;
  for (;; ++g) {
    bool more = target_bytes ? (g == 0 || out.size() + 64 < target_bytes) : g < groups;
    if (!more) break;
    if (g) out += ", ";
    put_group(out, rng, shape, g, run_id);
  }
  out += "], \"run_id\": ";
  put_string(out, run_id);
  out += '}';
  if (groups_out) *groups_out = g;
  return out;
}

}  // namespace

std::string generate_collection(const CollectionShape &shape) {
  return generate(shape, shape.groups, 0, nullptr);
}

std::string generate_collection_of_size(const CollectionShape &shape, size_t target_bytes, int *groups_out) {
  return generate(shape, 0, target_bytes == 0 ? 1 : target_bytes, groups_out);
}

}  // namespace nat::bench
