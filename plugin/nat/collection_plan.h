// NAT TrajectoryCollection validation.
//
// plan_collection() walks a TrajectoryCollection's JSON once, checks NAT's
// data model and the episode-order rules, and decides for every trajectory
// whether it converts (NAT drops a trajectory whose assistant logprobs do not
// fit OpenAI's ChoiceLogprobs). The plan it returns is what the converter
// needs to stream the ART body in a second pass without any lookahead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nat {

// NAT's EpisodeItemRole, in NAT's order.
enum class Role { User = 0, Assistant = 1, System = 2, Function = 3, Tool = 4, Environment = 5, Other = 6 };

std::optional<Role> parse_role(std::string_view name);
const char *role_name(Role role);

enum class ValidationMode {
  // What NAT's _validate_episode_order enforces: non-empty episode, first item
  // user or system, no two consecutive assistant items; plus NAT's EpisodeItem
  // rule that assistant items carry logprobs.
  Compat,
  // The four rules of that method's docstring: first item user or system,
  // last item assistant, only user/system/assistant roles, no two consecutive
  // items of one role; plus the EpisodeItem rule.
  Strict,
};

std::optional<ValidationMode> parse_validation_mode(std::string_view name);

// One episode item of a kept trajectory, as the converter needs it: views
// into the input, so the second pass copies bytes without scanning again.
struct ItemSpan {
  const char *content = nullptr;   // raw string content, without the quotes
  const char *logprobs = nullptr;  // raw JSON value, or nullptr when absent or null
  uint32_t content_len = 0;
  uint32_t logprobs_len = 0;
  Role role = Role::User;
};

struct TrajectoryPlan {
  bool keep = false;
  std::string_view reward;  // the reward's JSON number text: a view into the input, or into
                            // CollectionPlan::coerced for a reward NAT's model coerces
                            // from a string or a boolean
  size_t first_item = 0;    // into CollectionPlan::items (kept trajectories only)
  size_t item_count = 0;
};

struct GroupPlan {
  std::vector<TrajectoryPlan> trajectories;
  size_t kept = 0;
};

struct DroppedTrajectory {
  size_t group = 0;
  size_t trajectory = 0;
  std::string reason;
};

struct CollectionPlan {
  static constexpr size_t kMaxDroppedDetails = 50;

  std::string run_id;
  std::vector<GroupPlan> groups;  // one per inner list of the input, empty ones included
  size_t groups_kept = 0;
  size_t trajectories_total = 0;
  size_t trajectories_kept = 0;
  size_t dropped_count = 0;
  std::vector<DroppedTrajectory> dropped;  // the first kMaxDroppedDetails, with reasons
  std::vector<ItemSpan> items;             // the items of kept trajectories, in order
  std::deque<std::string> coerced;         // texts of coerced rewards (stable addresses)
};

struct CollectionLimits {
  int max_depth = 128;
};

// Validates a TrajectoryCollection and plans its conversion. Throws
// nat::Error(InvalidArgument) naming the location (for example
// "trajectories[0][2].episode[3]") for malformed JSON, a NAT model violation
// or an episode-order rule. Views in the plan point into `input`.
CollectionPlan plan_collection(std::string_view input, ValidationMode mode,
                               const CollectionLimits &limits = CollectionLimits());
// A temporary string would leave the plan's views dangling.
CollectionPlan plan_collection(std::string &&input, ValidationMode mode,
                               const CollectionLimits &limits = CollectionLimits()) = delete;

// Why an assistant item's logprobs would not validate as OpenAI's
// ChoiceLogprobs (empty when they do). `logprobs_json` is valid JSON.
std::string choice_logprobs_problem(std::string_view logprobs_json, int max_depth);

namespace json {
class Scanner;
}
// The same check on the next value of a scanner, which it consumes.
std::string scan_choice_logprobs(json::Scanner &scanner);

}  // namespace nat
