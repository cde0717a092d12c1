#include "customizer/dpo_dataset.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "base/error.h"
#include "customizer/py_json.h"
#include "json/small_json.h"
#include "nat/lax_number.h"

namespace nat::customizer {

namespace {

using Json = nlohmann::json;

std::string type_name(const Json &v) { return v.is_number() ? "number" : v.type_name(); }

[[noreturn]] void refuse(const std::string &where, const std::string &what) {
  throw_invalid("collection: " + where + ": " + what);
}

const std::string &string_field(const Json &item, const char *key, const std::string &where) {
  auto it = item.find(key);
  if (it == item.end()) {
    if (item.contains("role") && item.contains("content") && !item.contains("prompt"))
      refuse(where, std::string("missing required key '") + key +
                        "': this looks like an EpisodeItem (role, content); the NeMo Customizer adapter "
                        "trains DPOItems {prompt, chosen_response, rejected_response}");
    refuse(where, std::string("missing required key '") + key + "'");
  }
  if (!it->is_string()) refuse(where + "." + key, "expected a string, got " + type_name(*it));
  return it->get_ref<const std::string &>();
}

// The "prompt" value of a line, as _format_prompt gives it.
void append_prompt(std::string &out, const Json &prompt, const std::string &where, bool full_history) {
  if (prompt.is_string()) {
    if (full_history) {
      out += "[{\"role\": \"user\", \"content\": ";
      append_py_string(out, prompt.get_ref<const std::string &>());
      out += "}]";
    } else {
      append_py_string(out, prompt.get_ref<const std::string &>());
    }
    return;
  }
  if (!prompt.is_array())
    refuse(where + ".prompt",
           "expected a string or a list of {role, content} messages, got " + type_name(prompt));
  std::vector<std::pair<const std::string *, const std::string *>> messages;
  for (size_t m = 0; m < prompt.size(); ++m) {
    const Json &msg = prompt[m];
    const std::string at = where + ".prompt[" + std::to_string(m) + "]";
    if (!msg.is_object()) refuse(at, "expected a message object {role, content}, got " + type_name(msg));
    const std::string &role = string_field(msg, "role", at);
    const std::string &content = string_field(msg, "content", at);
    messages.emplace_back(&role, &content);
  }
  if (full_history) {
    out += '[';
    for (size_t m = 0; m < messages.size(); ++m) {
      if (m) out += ", ";
      out += "{\"role\": ";
      append_py_string(out, *messages[m].first);
      out += ", \"content\": ";
      append_py_string(out, *messages[m].second);
      out += '}';
    }
    out += ']';
  } else if (!messages.empty()) {
    append_py_string(out, *messages.back().second);
  } else {
    out += "\"\"";
  }
}

// An item NAT's EpisodeItem accepts: a known role, string content, and
// logprobs for an assistant item.
bool is_episode_item(const Json &item) {
  if (!item.is_object() || item.contains("prompt")) return false;
  auto role = item.find("role");
  auto content = item.find("content");
  if (role == item.end() || !role->is_string() || content == item.end() || !content->is_string())
    return false;
  static const char *roles[] = {"user", "assistant", "system", "function", "tool", "environment", "other"};
  bool known = false;
  for (const char *r : roles) known = known || *role == r;
  if (!known) return false;
  auto logprobs = item.find("logprobs");
  return *role != "assistant" || (logprobs != item.end() && !logprobs->is_null());
}

}  // namespace

size_t training_split(size_t items) {
  // int(len(all_items) * 0.8): the same double product, truncated.
  auto split = static_cast<size_t>(static_cast<double>(items) * 0.8);
  return split < 1 ? 1 : split;
}

DpoDataset build_dpo_dataset(std::string_view collection_json, bool full_history, int max_depth) {
  Json root = json::parse_checked(collection_json, "collection", max_depth, json::DuplicateKeys::Refuse);
  if (!root.is_object()) throw_invalid("collection: expected a TrajectoryCollection JSON object");
  DpoDataset out;
  auto run_id = root.find("run_id");
  if (run_id == root.end()) throw_invalid("collection: missing required key 'run_id'");
  if (!run_id->is_string()) throw_invalid("collection: run_id: expected a string, got " + type_name(*run_id));
  out.run_id = run_id->get<std::string>();
  auto groups = root.find("trajectories");
  if (groups == root.end()) throw_invalid("collection: missing required key 'trajectories'");
  if (!groups->is_array())
    throw_invalid("collection: trajectories: expected a list of trajectory lists, got " + type_name(*groups));
  std::vector<std::string> lines;
  for (size_t g = 0; g < groups->size(); ++g) {
    const Json &group = (*groups)[g];
    const std::string gwhere = "trajectories[" + std::to_string(g) + "]";
    if (!group.is_array()) refuse(gwhere, "expected a list of trajectories, got " + type_name(group));
    for (size_t t = 0; t < group.size(); ++t) {
      const Json &traj = group[t];
      const std::string twhere = gwhere + "[" + std::to_string(t) + "]";
      if (!traj.is_object()) refuse(twhere, "expected a Trajectory object, got " + type_name(traj));
      auto reward = traj.find("reward");
      if (reward == traj.end()) refuse(twhere, "missing required key 'reward'");
      if (!lax_float(*reward)) refuse(twhere + ".reward", "expected a number, got " + type_name(*reward));
      auto episode = traj.find("episode");
      if (episode == traj.end()) refuse(twhere, "missing required key 'episode'");
      if (!episode->is_array())
        refuse(twhere + ".episode", "expected a list of DPOItems, got " + type_name(*episode));
      ++out.trajectories;
      bool episode_items = !episode->empty();
      for (const Json &item : *episode) episode_items = episode_items && is_episode_item(item);
      if (episode_items) {
        ++out.skipped_trajectories;
        continue;
      }
      for (size_t i = 0; i < episode->size(); ++i) {
        const Json &item = (*episode)[i];
        const std::string iwhere = twhere + ".episode[" + std::to_string(i) + "]";
        if (!item.is_object()) refuse(iwhere, "expected a DPOItem object, got " + type_name(item));
        auto prompt = item.find("prompt");
        if (prompt == item.end()) (void)string_field(item, "prompt", iwhere);  // throws, with the hint
        const std::string &chosen = string_field(item, "chosen_response", iwhere);
        const std::string &rejected = string_field(item, "rejected_response", iwhere);
        std::string line = "{\"prompt\": ";
        append_prompt(line, *prompt, iwhere, full_history);
        line += ", \"chosen_response\": ";
        append_py_string(line, chosen);
        line += ", \"rejected_response\": ";
        append_py_string(line, rejected);
        line += '}';
        lines.push_back(std::move(line));
      }
    }
  }
  if (lines.empty()) throw_invalid("No DPO items found in trajectories");
  const size_t n = lines.size();
  const size_t split = training_split(n);
  auto join = [&](size_t from, size_t to) {
    std::string text;
    for (size_t i = from; i < to; ++i) {
      if (i > from) text += '\n';
      text += lines[i];
    }
    return text;
  };
  out.items = n;
  out.training_items = split < n ? split : n;
  out.training_jsonl = join(0, out.training_items);
  if (split < n) {
    out.validation_jsonl = join(split, n);
    out.validation_items = n - split;
  } else {
    out.validation_jsonl = join(n - 1, n);
    out.validation_items = 1;
  }
  return out;
}

}  // namespace nat::customizer
