#include "nat/collection_plan.h"

#include <cmath>
#include <string>

#include "base/error.h"
#include "json/scanner.h"
#include "nat/lax_number.h"

namespace nat {

namespace {

using json::Kind;
using json::Scanner;

constexpr const char *kEmptyEpisode = "Trajectory episode is empty.";
constexpr const char *kBadFirst = "The first message in the trajectory must be from 'user' or 'system'.";
constexpr const char *kConsecutiveAssistant =
    "Consecutive assistant messages from the same role found in trajectory.";
constexpr const char *kConsecutiveSameRole = "Consecutive messages from the same role found in trajectory.";
constexpr const char *kBadLast = "The last message in the trajectory must be from 'assistant'.";
constexpr const char *kMissingLogprobs = "logprobs must be provided for assistant role.";

bool key_is(std::string_view raw, std::string_view name) { return Scanner::key_equals(raw, name); }

std::string traj_path(size_t g, size_t t) {
  return "trajectories[" + std::to_string(g) + "][" + std::to_string(t) + "]";
}

[[noreturn]] void fail(const std::string &where, const std::string &what) {
  throw_invalid(where + ": " + what);
}

void expect_kind(Scanner &s, Kind want, const std::string &where, const char *what) {
  Kind k = s.peek();
  if (k == want) return;
  fail(where, std::string(what) + ", not " + json::kind_name(k));
}

void check_duplicate(bool &seen, const std::string &where, std::string_view key) {
  if (seen) fail(where, "duplicate key '" + std::string(key) + "'");
  seen = true;
}

// dict | None
void expect_object_or_null(Scanner &s, const std::string &where) {
  Kind k = s.peek();
  if (k == Kind::Null) {
    s.null();
    return;
  }
  if (k != Kind::Object) fail(where, std::string("must be an object or null, not ") + json::kind_name(k));
  s.skip_value();
}

struct ItemScan {
  std::optional<Role> role;
  bool has_content = false;
  bool logprobs_present = false;  // present and not null
  std::string logprobs_problem;   // why the logprobs do not fit ChoiceLogprobs
  std::string_view content;
  std::string_view logprobs;
};

uint32_t span_length(size_t n, const std::string &where) {
  if (n > UINT32_MAX) fail(where, "a value larger than 4 GiB");
  return static_cast<uint32_t>(n);
}

ItemScan scan_item(Scanner &s, const std::string &where) {
  expect_kind(s, Kind::Object, where, "an episode item must be an object");
  ItemScan item;
  s.begin_object();
  std::string_view key;
  bool seen_role = false, seen_content = false, seen_logprobs = false, seen_metadata = false,
       dpo_like = false;
  while (s.next_key(key)) {
    if (key_is(key, "role")) {
      check_duplicate(seen_role, where, "role");
      expect_kind(s, Kind::String, where + ".role", "must be a string");
      std::string name = s.string_value();
      item.role = parse_role(name);
      if (!item.role)
        fail(where + ".role",
             "unknown role '" + name +
                 "' (expected one of user, assistant, system, function, tool, environment, other)");
    } else if (key_is(key, "content")) {
      check_duplicate(seen_content, where, "content");
      expect_kind(s, Kind::String, where + ".content", "must be a string");
      item.content = s.string_raw();
      item.has_content = true;
    } else if (key_is(key, "logprobs")) {
      check_duplicate(seen_logprobs, where, "logprobs");
      if (s.peek() == Kind::Null) {
        s.null();
      } else {
        item.logprobs_present = true;
        const char *begin = s.position();
        item.logprobs_problem = scan_choice_logprobs(s);
        item.logprobs = std::string_view(begin, static_cast<size_t>(s.position() - begin));
      }
    } else if (key_is(key, "metadata")) {
      check_duplicate(seen_metadata, where, "metadata");
      expect_object_or_null(s, where + ".metadata");
    } else {
      if (key_is(key, "prompt") || key_is(key, "chosen_response")) dpo_like = true;
      s.skip_value();
    }
  }
  if (!item.role) {
    if (dpo_like) fail(where, "DPO items are not supported by this adapter; episode items need a 'role'");
    fail(where, "missing required key 'role'");
  }
  if (!item.has_content) fail(where, "missing required key 'content'");
  if (*item.role == Role::Assistant && !item.logprobs_present) fail(where, kMissingLogprobs);
  return item;
}

// Scans one trajectory's episode, applying the order rules as items arrive.
// Returns the first reason to drop the trajectory (a logprobs problem), or "".
// NAT validates the whole collection's data model (pydantic) before it applies
// the episode-order rules, so a model error anywhere wins over an order error;
// among order errors the first trajectory wins. Order errors are therefore
// recorded here and raised once the whole input has been checked.
struct OrderError {
  std::string message;
  void note(const std::string &where, const std::string &what) {
    if (message.empty()) message = where + ": " + what;
  }
};

std::string scan_episode(Scanner &s, const std::string &where, ValidationMode mode,
                         std::vector<ItemSpan> &items, OrderError &order) {
  expect_kind(s, Kind::Array, where + ".episode", "must be a list");
  s.begin_array();
  size_t i = 0;
  Role prev = Role::User;
  std::string drop_reason;
  OrderError trajectory_order;  // the first broken rule of this trajectory
  while (s.next_element()) {
    std::string item_where = where + ".episode[" + std::to_string(i) + "]";
    ItemScan item = scan_item(s, item_where);
    Role role = *item.role;
    ItemSpan span;
    span.role = role;
    span.content = item.content.data();
    span.content_len = span_length(item.content.size(), item_where);
    if (item.logprobs_present) {
      span.logprobs = item.logprobs.data();
      span.logprobs_len = span_length(item.logprobs.size(), item_where);
    }
    items.push_back(span);
    if (i == 0) {
      if (role != Role::User && role != Role::System) trajectory_order.note(item_where, kBadFirst);
    } else {
      if (mode == ValidationMode::Strict) {
        if (role != Role::User && role != Role::System && role != Role::Assistant)
          trajectory_order.note(item_where,
                                std::string("Invalid role '") + role_name(role) +
                                    "': only 'user', 'system' and 'assistant' are allowed in strict "
                                    "validation mode.");
        if (role == prev) trajectory_order.note(item_where, kConsecutiveSameRole);
      } else if (role == prev && role == Role::Assistant) {
        trajectory_order.note(item_where, kConsecutiveAssistant);
      }
      if (role == Role::Assistant && !item.logprobs_problem.empty() && drop_reason.empty())
        drop_reason = item_where + ": " + item.logprobs_problem;
    }
    prev = role;
    ++i;
  }
  if (i == 0) trajectory_order.note(where, kEmptyEpisode);
  if (i > 0 && mode == ValidationMode::Strict && prev != Role::Assistant)
    trajectory_order.note(where + ".episode[" + std::to_string(i - 1) + "]", kBadLast);
  if (order.message.empty()) order.message = trajectory_order.message;
  return drop_reason;
}

// A float as NAT's model takes it: a finite JSON number as it is, or what
// pydantic coerces (a boolean, a numeric string) as its shortest number text.
// NaN and infinities are refused: the ART body must be JSON.
std::string_view scan_reward(Scanner &s, const std::string &where, std::deque<std::string> &coerced) {
  Kind k = s.peek();
  if (k == Kind::Number) {
    std::string_view text = s.number_raw();
    if (!std::isfinite(json::parse_double(text)))
      fail(where, "must be a finite number, got " + std::string(text));
    return text;
  }
  if (k == Kind::True || k == Kind::False) {
    coerced.push_back(s.boolean() ? "1.0" : "0.0");
    return coerced.back();
  }
  if (k == Kind::String) {
    std::string text = s.string_value();
    auto v = lax_float_value(text);
    if (!v) fail(where, "must be a number, got the string \"" + text + "\"");
    if (!std::isfinite(*v)) fail(where, "must be a finite number, got \"" + text + "\"");
    coerced.push_back(shortest_repr(*v));
    return coerced.back();
  }
  fail(where, std::string("must be a number, not ") + json::kind_name(k));
}

TrajectoryPlan scan_trajectory(Scanner &s, size_t g, size_t t, ValidationMode mode, std::string &drop_reason,
                               std::vector<ItemSpan> &items, std::deque<std::string> &coerced,
                               OrderError &order) {
  std::string where = traj_path(g, t);
  expect_kind(s, Kind::Object, where, "a trajectory must be an object");
  TrajectoryPlan plan;
  s.begin_object();
  std::string_view key;
  bool seen_episode = false, seen_reward = false, seen_shaped = false, seen_metadata = false;
  while (s.next_key(key)) {
    if (key_is(key, "episode")) {
      check_duplicate(seen_episode, where, "episode");
      plan.first_item = items.size();
      drop_reason = scan_episode(s, where, mode, items, order);
      plan.item_count = items.size() - plan.first_item;
    } else if (key_is(key, "reward")) {
      check_duplicate(seen_reward, where, "reward");
      plan.reward = scan_reward(s, where + ".reward", coerced);
    } else if (key_is(key, "shaped_rewards")) {
      check_duplicate(seen_shaped, where, "shaped_rewards");
      if (s.peek() == Kind::Null) {
        s.null();
      } else {
        expect_kind(s, Kind::Array, where + ".shaped_rewards", "must be a list of numbers or null");
        s.begin_array();
        size_t i = 0;
        while (s.next_element()) {
          // NAT keeps shaped_rewards out of the ART body; they are only checked.
          std::deque<std::string> unused;
          scan_reward(s, where + ".shaped_rewards[" + std::to_string(i) + "]", unused);
          ++i;
        }
      }
    } else if (key_is(key, "metadata")) {
      check_duplicate(seen_metadata, where, "metadata");
      expect_object_or_null(s, where + ".metadata");
    } else {
      s.skip_value();
    }
  }
  if (!seen_episode) fail(where, "missing required key 'episode'");
  if (!seen_reward) fail(where, "missing required key 'reward'");
  plan.keep = drop_reason.empty();
  if (!plan.keep) {
    items.resize(plan.first_item);
    plan.item_count = 0;
  }
  return plan;
}

void scan_groups(Scanner &s, ValidationMode mode, CollectionPlan &plan, OrderError &order) {
  expect_kind(s, Kind::Array, "trajectories", "must be a list of lists of trajectories");
  s.begin_array();
  size_t g = 0;
  while (s.next_element()) {
    std::string gwhere = "trajectories[" + std::to_string(g) + "]";
    expect_kind(s, Kind::Array, gwhere, "must be a list of trajectories");
    GroupPlan group;
    s.begin_array();
    size_t t = 0;
    while (s.next_element()) {
      std::string drop_reason;
      TrajectoryPlan tp = scan_trajectory(s, g, t, mode, drop_reason, plan.items, plan.coerced, order);
      ++plan.trajectories_total;
      if (tp.keep) {
        ++group.kept;
        ++plan.trajectories_kept;
      } else {
        ++plan.dropped_count;
        if (plan.dropped.size() < CollectionPlan::kMaxDroppedDetails)
          plan.dropped.push_back(DroppedTrajectory{g, t, drop_reason});
      }
      group.trajectories.push_back(tp);
      ++t;
    }
    if (group.kept > 0) ++plan.groups_kept;
    plan.groups.push_back(std::move(group));
    ++g;
  }
}

}  // namespace

std::optional<Role> parse_role(std::string_view name) {
  static constexpr const char *kNames[] = {"user", "assistant",   "system", "function",
                                           "tool", "environment", "other"};
  for (int i = 0; i < 7; ++i)
    if (name == kNames[i]) return static_cast<Role>(i);
  return std::nullopt;
}

const char *role_name(Role role) {
  static constexpr const char *kNames[] = {"user", "assistant",   "system", "function",
                                           "tool", "environment", "other"};
  return kNames[static_cast<int>(role)];
}

std::optional<ValidationMode> parse_validation_mode(std::string_view name) {
  if (name == "compat") return ValidationMode::Compat;
  if (name == "strict") return ValidationMode::Strict;
  return std::nullopt;
}

CollectionPlan plan_collection(std::string_view input, ValidationMode mode, const CollectionLimits &limits) {
  CollectionPlan plan;
  try {
    Scanner s(input, limits.max_depth);
    if (input.empty()) throw_invalid("TrajectoryCollection: empty input");
    expect_kind(s, Kind::Object, "TrajectoryCollection", "must be a JSON object");
    s.begin_object();
    std::string_view key;
    bool seen_trajectories = false, seen_run_id = false;
    OrderError order;
    while (s.next_key(key)) {
      if (key_is(key, "trajectories")) {
        check_duplicate(seen_trajectories, "TrajectoryCollection", "trajectories");
        scan_groups(s, mode, plan, order);
      } else if (key_is(key, "run_id")) {
        check_duplicate(seen_run_id, "TrajectoryCollection", "run_id");
        expect_kind(s, Kind::String, "run_id", "must be a string");
        plan.run_id = s.string_value();
      } else {
        s.skip_value();
      }
    }
    s.expect_end();
    if (!seen_trajectories) fail("TrajectoryCollection", "missing required key 'trajectories'");
    if (!seen_run_id) fail("TrajectoryCollection", "missing required key 'run_id'");
    if (!order.message.empty()) throw_invalid(order.message);
  } catch (const json::SyntaxError &e) {
    throw_invalid(std::string("TrajectoryCollection: ") + e.what());
  }
  return plan;
}

}  // namespace nat
