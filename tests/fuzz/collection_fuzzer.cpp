// libFuzzer harness: TrajectoryCollection validation and conversion.
//
// Input: one header byte, then the collection JSON text.
//   header bit 0     validation mode: 0 compat, 1 strict
//   header bits 1-2  max_json_depth: 128, 4, 16, 1000 (the config allows 2..1000)
//   header bit 3     output framing: 0 JSON array ("[", ",", "]"), 1 JSON lines
// Seed files start with an ASCII digit: '0' compat, '1' strict, '8' compat +
// JSON lines, '9' strict + JSON lines.
//
// Contract checked: plan_collection() returns a self-consistent plan or throws
// nat::Error(InvalidArgument): counts that agree, rewards that are finite JSON
// numbers viewing the input or the plan's coerced texts, item spans inside
// the input and contiguous per kept trajectory. When the plan keeps a group,
// the converter must not throw, its output must be valid JSON
// (nlohmann::json::accept), and it must hold exactly plan.groups_kept groups
// and plan.trajectories_kept trajectories, in order, each with one message or
// choice per planned episode item and a numeric reward; no raw line break
// outside the framing. minify_json, on the whole (valid) input and on each
// logprobs span, equals a byte-by-byte minify.
//
// Valid JSON, here, tolerates exactly one thing nlohmann refuses: a number
// that overflows a double (-1e999), passed through in logprobs by decision
// (tests/fuzz/reproducers/README.md). accept_json() replaces such number
// tokens by 0 before nlohmann::json::accept; anything else invalid still fails.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "convert/trajectory_converter.h"
#include "nat/collection_plan.h"

namespace {

[[noreturn]] void invariant_failed(const char *what) {
  std::fprintf(stderr, "collection_fuzzer: invariant failed: %s\n", what);
  std::abort();
}
#define CHECK(cond)                       \
  do {                                    \
    if (!(cond)) invariant_failed(#cond); \
  } while (0)

constexpr int kDepths[4] = {128, 4, 16, 1000};

bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// Whether `t` is a JSON number (RFC 8259 grammar) whose value overflows a double.
bool overflowing_number(std::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  if (i != t.size()) return false;
  return std::isinf(std::strtod(std::string(t).c_str(), nullptr));
}

// `text` with every number token outside strings that overflows a double
// replaced by 0 (a token: a maximal run of number characters outside
// strings, so the replacement never changes what surrounds it).
std::string without_overflowing_numbers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      out += c;
      ++i;
    } else if (is_number_char(c)) {
      size_t j = i;
      while (j < text.size() && is_number_char(text[j])) ++j;
      std::string_view token = text.substr(i, j - i);
      if (overflowing_number(token))
        out += '0';
      else
        out.append(token.data(), token.size());
      i = j;
    } else {
      in_string = c == '"';
      out += c;
      ++i;
    }
  }
  return out;
}

// Valid JSON, numbers that overflow a double allowed (and nothing else).
bool accept_json(std::string_view text) { return nlohmann::json::accept(without_overflowing_numbers(text)); }

// Parses what accept_json accepted (overflowing numbers read as 0).
nlohmann::json parse_json(std::string_view text) {
  return nlohmann::json::parse(without_overflowing_numbers(text));
}

// The obvious minify, byte by byte, against nat::minify_json.
std::string reference_minify(std::string_view s) {
  std::string out;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      out += c;
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out += c;
      in_string = c == '"';
    }
  }
  return out;
}

void check_minify(std::string_view json) {
  std::string out(json.size(), '\0');
  out.resize(nat::minify_json(json, out.data()));
  CHECK(out == reference_minify(json));
}

bool inside(const char *p, size_t n, std::string_view range) {
  return p >= range.data() && n <= range.size() &&
         p - range.data() <= static_cast<std::ptrdiff_t>(range.size() - n);
}

// The reward text: a view into the input, or into one of the plan's coerced
// texts (a boolean or numeric string NAT's model coerces); a finite JSON number.
void check_reward(std::string_view reward, std::string_view input, const nat::CollectionPlan &plan) {
  CHECK(!reward.empty());
  bool in_input = inside(reward.data(), reward.size(), input);
  bool in_coerced = false;
  for (const std::string &c : plan.coerced)
    in_coerced = in_coerced || (reward.data() == c.data() && reward.size() == c.size());
  CHECK(in_input || in_coerced);
  CHECK(nlohmann::json::accept(reward));
  nlohmann::json v = nlohmann::json::parse(reward);
  CHECK(v.is_number());
  CHECK(std::isfinite(v.get<double>()));
}

// The kept trajectories' item counts, in order, to compare with the output.
std::vector<size_t> check_plan(const nat::CollectionPlan &plan, std::string_view input) {
  CHECK(plan.trajectories_kept <= plan.trajectories_total);
  CHECK(plan.trajectories_kept + plan.dropped_count == plan.trajectories_total);
  CHECK(plan.dropped.size() == std::min(plan.dropped_count, nat::CollectionPlan::kMaxDroppedDetails));
  std::vector<size_t> item_counts;
  size_t total = 0, kept = 0, groups_kept = 0, next_item = 0;
  for (const auto &g : plan.groups) {
    size_t k = 0;
    for (const auto &t : g.trajectories) {
      if (!t.keep) continue;
      ++k;
      check_reward(t.reward, input, plan);
      // A kept trajectory's items: contiguous in plan.items, in order.
      CHECK(t.item_count > 0);
      CHECK(t.first_item == next_item);
      CHECK(t.first_item + t.item_count <= plan.items.size());
      for (size_t i = t.first_item; i < t.first_item + t.item_count; ++i) {
        const nat::ItemSpan &item = plan.items[i];
        CHECK(item.content_len == 0 || inside(item.content, item.content_len, input));
        CHECK(item.logprobs == nullptr || inside(item.logprobs, item.logprobs_len, input));
        if (item.logprobs) {
          std::string_view lp(item.logprobs, item.logprobs_len);
          CHECK(accept_json(lp));
          check_minify(lp);
        }
      }
      next_item = t.first_item + t.item_count;
      item_counts.push_back(t.item_count);
    }
    CHECK(k == g.kept);
    total += g.trajectories.size();
    kept += k;
    if (k > 0) ++groups_kept;
  }
  CHECK(next_item == plan.items.size());
  CHECK(total == plan.trajectories_total);
  CHECK(kept == plan.trajectories_kept);
  CHECK(groups_kept == plan.groups_kept);
  for (const auto &d : plan.dropped) {
    CHECK(d.group < plan.groups.size());
    CHECK(d.trajectory < plan.groups[d.group].trajectories.size());
    CHECK(!plan.groups[d.group].trajectories[d.trajectory].keep);
    CHECK(!d.reason.empty());
  }
  return item_counts;
}

// One ART TrajectoryGroup of the output: its shape, and each trajectory's
// message count against the plan (one message or choice per episode item).
void check_group(const nlohmann::json &g, const std::vector<size_t> &item_counts, size_t &next) {
  CHECK(g.is_object());
  CHECK(g.contains("trajectories") && g["trajectories"].is_array());
  const auto &trajs = g["trajectories"];
  CHECK(!trajs.empty());
  for (const auto &t : trajs) {
    CHECK(t.is_object());
    CHECK(t.contains("messages_and_choices") && t["messages_and_choices"].is_array());
    CHECK(next < item_counts.size());
    CHECK(t["messages_and_choices"].size() == item_counts[next]);
    ++next;
    CHECK(t.contains("reward") && t["reward"].is_number());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t header = data[0];
  const nat::ValidationMode mode = (header & 1) ? nat::ValidationMode::Strict : nat::ValidationMode::Compat;
  const int depth = kDepths[(header >> 1) & 3];
  const bool jsonl = (header & 8) != 0;
  std::string_view input(reinterpret_cast<const char *>(data + 1), size - 1);

  nat::CollectionPlan plan;
  try {
    plan = nat::plan_collection(input, mode, nat::CollectionLimits{depth});
  } catch (const nat::Error &e) {
    CHECK(e.code() == nat::ErrorCode::InvalidArgument);
    return 0;
  }

  const std::vector<size_t> item_counts = check_plan(plan, input);
  check_minify(input);  // valid JSON: plan_collection accepted it
  if (plan.groups_kept == 0) return 0;

  std::string out;
  try {
    nat::StringSink sink(out);
    if (jsonl)
      nat::TrajectoryConverter(input, plan, depth).write_groups(sink, "", "\n", "\n");
    else
      nat::TrajectoryConverter(input, plan, depth).write_groups(sink, "[", ",", "]");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "collection_fuzzer: converter threw on a validated collection: %s\n", e.what());
    std::abort();
  }

  size_t groups_out = 0, trajectories_out = 0;
  if (jsonl) {
    CHECK(!out.empty() && out.back() == '\n');
    size_t start = 0;
    while (start < out.size()) {
      size_t nl = out.find('\n', start);
      CHECK(nl != std::string::npos);
      std::string_view line(out.data() + start, nl - start);
      CHECK(line.find('\r') == std::string_view::npos);
      CHECK(accept_json(line));
      check_group(parse_json(line), item_counts, trajectories_out);
      ++groups_out;
      start = nl + 1;
    }
  } else {
    CHECK(out.find_first_of("\r\n") == std::string::npos);
    CHECK(accept_json(out));
    nlohmann::json doc = parse_json(out);
    CHECK(doc.is_array());
    for (const auto &g : doc) {
      check_group(g, item_counts, trajectories_out);
      ++groups_out;
    }
  }
  CHECK(groups_out == plan.groups_kept);
  CHECK(trajectories_out == plan.trajectories_kept);
  return 0;
}
