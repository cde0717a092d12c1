#include "nat/collection_plan.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"

using nat::CollectionPlan;
using nat::ValidationMode;
using nlohmann::json;

namespace {

json lp() {
  return {
      {"content",
       {{{"token", "token_id:7"}, {"bytes", {104}}, {"logprob", -0.25}, {"top_logprobs", json::array()}}}},
      {"refusal", nullptr}};
}
json item(const std::string &role, const std::string &content = "c") {
  json i = {{"role", role}, {"content", content}};
  if (role == "assistant") i["logprobs"] = lp();
  return i;
}
json traj(json episode, double reward = 1.0) { return {{"episode", std::move(episode)}, {"reward", reward}}; }
json collection(json groups) { return {{"run_id", "run-1"}, {"trajectories", std::move(groups)}}; }

// The plan's views point into the text it was made from: the texts live as
// long as the test program.
CollectionPlan plan(const json &c, ValidationMode mode = ValidationMode::Compat) {
  static std::deque<std::string> texts;
  texts.push_back(c.dump());
  return nat::plan_collection(texts.back(), mode);
}

std::string rejection(const std::string &text, ValidationMode mode = ValidationMode::Compat) {
  try {
    nat::plan_collection(text, mode);
  } catch (const nat::Error &e) {
    EXPECT_EQ(e.code(), nat::ErrorCode::InvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << text;
  return "";
}
std::string rejection(const char *text) { return rejection(std::string(text)); }
std::string rejection(const json &c, ValidationMode mode = ValidationMode::Compat) {
  return rejection(c.dump(), mode);
}

}  // namespace

TEST(CollectionPlan, AcceptsAValidCollectionAndCountsEverything) {
  json c = collection({{traj({item("system"), item("user"), item("assistant")}, 1.0),
                        traj({item("user"), item("assistant")}, 0.0)},
                       json::array(),
                       {traj({item("user"), item("assistant"), item("tool"), item("assistant")}, 0.5)}});
  CollectionPlan p = plan(c);
  EXPECT_EQ(p.run_id, "run-1");
  ASSERT_EQ(p.groups.size(), 3u);
  EXPECT_EQ(p.groups_kept, 2u);
  EXPECT_EQ(p.trajectories_total, 3u);
  EXPECT_EQ(p.trajectories_kept, 3u);
  EXPECT_EQ(p.dropped_count, 0u);
  EXPECT_EQ(p.groups[0].trajectories[0].reward, "1.0");
  EXPECT_EQ(p.groups[1].kept, 0u);
}

TEST(CollectionPlan, CompatRulesUseNatMessagesAndNameTheItem) {
  EXPECT_EQ(rejection(collection({{traj(json::array())}})),
            "trajectories[0][0]: Trajectory episode is empty.");
  EXPECT_EQ(
      rejection(collection({{traj({item("user"), item("assistant")}), traj({item("assistant")})}})),
      "trajectories[0][1].episode[0]: The first message in the trajectory must be from 'user' or 'system'.");
  EXPECT_EQ(
      rejection(collection({json::array(), {traj({item("tool"), item("assistant")})}})),
      "trajectories[1][0].episode[0]: The first message in the trajectory must be from 'user' or 'system'.");
  EXPECT_EQ(rejection(collection({{traj({item("user"), item("assistant"), item("assistant")})}})),
            "trajectories[0][0].episode[2]: Consecutive assistant messages from the same role found in "
            "trajectory.");
}

TEST(CollectionPlan, CompatAllowsWhatNatAllows) {
  // Two users in a row, tool/function/environment/other roles, no final assistant.
  json c = collection({{traj({item("user"), item("user"), item("function"), item("environment"),
                              item("other"), item("tool"), item("user")})}});
  EXPECT_EQ(plan(c).trajectories_kept, 1u);
}

TEST(CollectionPlan, StrictRulesAreTheDocstringsFour) {
  auto strict = ValidationMode::Strict;
  EXPECT_EQ(rejection(collection({{traj({item("user"), item("assistant"), item("user")})}}), strict),
            "trajectories[0][0].episode[2]: The last message in the trajectory must be from 'assistant'.");
  EXPECT_EQ(rejection(collection({{traj({item("user"), item("tool"), item("assistant")})}}), strict),
            "trajectories[0][0].episode[1]: Invalid role 'tool': only 'user', 'system' and 'assistant' are "
            "allowed in "
            "strict validation mode.");
  EXPECT_EQ(rejection(collection({{traj({item("system"), item("user"), item("user"), item("assistant")})}}),
                      strict),
            "trajectories[0][0].episode[2]: Consecutive messages from the same role found in trajectory.");
  EXPECT_EQ(
      rejection(collection({{traj({item("assistant")})}}), strict),
      "trajectories[0][0].episode[0]: The first message in the trajectory must be from 'user' or 'system'.");
  EXPECT_EQ(rejection(collection({{traj(json::array())}}), strict),
            "trajectories[0][0]: Trajectory episode is empty.");
  EXPECT_EQ(
      plan(collection(
               {{traj({item("system"), item("user"), item("assistant"), item("user"), item("assistant")})}}),
           strict)
          .trajectories_kept,
      1u);
}

TEST(CollectionPlan, AssistantItemsNeedLogprobs) {
  json bare = {{"role", "assistant"}, {"content", "x"}};
  EXPECT_EQ(rejection(collection({{traj({item("user"), bare})}})),
            "trajectories[0][0].episode[1]: logprobs must be provided for assistant role.");
  bare["logprobs"] = nullptr;
  EXPECT_EQ(rejection(collection({{traj({item("user"), bare})}})),
            "trajectories[0][0].episode[1]: logprobs must be provided for assistant role.");
  bare["logprobs"] = json::object();  // {} passes NAT's check
  EXPECT_EQ(plan(collection({{traj({item("user"), bare})}})).trajectories_kept, 1u);
}

TEST(CollectionPlan, DropsTrajectoriesWhoseLogprobsDoNotFitChoiceLogprobs) {
  auto with = [](json logprobs) {
    json a = {{"role", "assistant"}, {"content", "x"}, {"logprobs", std::move(logprobs)}};
    return traj({item("user"), a});
  };
  json bad_token = lp();
  bad_token["content"][0].erase("top_logprobs");
  json c = collection(
      {{with(json::array({1})), with("text"), with(lp()), with(bad_token), with({{"content", "not a list"}})},
       {with(5)}});
  CollectionPlan p = plan(c);
  EXPECT_EQ(p.trajectories_total, 6u);
  EXPECT_EQ(p.trajectories_kept, 1u);
  EXPECT_EQ(p.dropped_count, 5u);
  EXPECT_EQ(p.groups_kept, 1u);
  EXPECT_EQ(p.groups[1].kept, 0u);
  ASSERT_EQ(p.dropped.size(), 5u);
  EXPECT_EQ(p.dropped[0].group, 0u);
  EXPECT_EQ(p.dropped[0].trajectory, 0u);
  EXPECT_NE(p.dropped[0].reason.find("logprobs must be an object"), std::string::npos) << p.dropped[0].reason;
  EXPECT_NE(p.dropped[2].reason.find("has no 'top_logprobs'"), std::string::npos) << p.dropped[2].reason;
  EXPECT_NE(p.dropped[3].reason.find("logprobs.content must be a list or null"), std::string::npos);
}

TEST(CollectionPlan, AcceptsLogprobShapesPydanticAccepts) {
  for (json logprobs :
       {json::object(), json{{"content", nullptr}}, json{{"refusal", nullptr}, {"extra", 1}},
        json{{"content", {{{"token", "a"}, {"logprob", -1}, {"top_logprobs", json::array()}}}}},
        json{{"content",
              {{{"token", "a"},
                {"logprob", true},
                {"bytes", {1.0, 2}},
                {"top_logprobs", {{{"token", "b"}, {"logprob", "-0.5"}, {"bytes", nullptr}}}}}}}}}) {
    json a = {{"role", "assistant"}, {"content", "x"}, {"logprobs", logprobs}};
    EXPECT_EQ(plan(collection({{traj({item("user"), a})}})).trajectories_kept, 1u) << logprobs.dump();
  }
}

TEST(CollectionPlan, RejectsModelViolationsWithTheirLocation) {
  EXPECT_EQ(rejection(R"({"run_id":"r"})"), "TrajectoryCollection: missing required key 'trajectories'");
  EXPECT_EQ(rejection(R"({"trajectories":[]})"), "TrajectoryCollection: missing required key 'run_id'");
  EXPECT_EQ(rejection(R"({"run_id":1,"trajectories":[]})"), "run_id: must be a string, not number");
  EXPECT_EQ(rejection(R"({"run_id":"r","trajectories":{}})"),
            "trajectories: must be a list of lists of trajectories, not object");
  EXPECT_EQ(rejection(R"({"run_id":"r","trajectories":[{}]})"),
            "trajectories[0]: must be a list of trajectories, not object");
  EXPECT_EQ(rejection(R"({"run_id":"r","trajectories":[[{"reward":1}]]})"),
            "trajectories[0][0]: missing required key 'episode'");
  EXPECT_EQ(rejection(R"({"run_id":"r","trajectories":[[{"episode":[{"role":"user","content":"x"}]}]]})"),
            "trajectories[0][0]: missing required key 'reward'");
  EXPECT_EQ(
      rejection(
          R"({"run_id":"r","trajectories":[[{"episode":[{"role":"user","content":"x"}],"reward":"high"}]]})"),
      "trajectories[0][0].reward: must be a number, got the string \"high\"");
  EXPECT_EQ(
      rejection(
          R"({"run_id":"r","trajectories":[[{"episode":[{"role":"user","content":"x"}],"reward":1e999}]]})"),
      "trajectories[0][0].reward: must be a finite number, got 1e999");
  EXPECT_EQ(
      rejection(R"({"run_id":"r","trajectories":[[{"episode":[{"role":"user","content":3}],"reward":1}]]})"),
      "trajectories[0][0].episode[0].content: must be a string, not number");
  EXPECT_EQ(
      rejection(
          R"({"run_id":"r","trajectories":[[{"episode":[{"role":"critic","content":"x"}],"reward":1}]]})"),
      "trajectories[0][0].episode[0].role: unknown role 'critic' (expected one of user, assistant, system, "
      "function, tool, environment, other)");
  EXPECT_EQ(rejection(R"({"run_id":"r","trajectories":[[{"episode":[{"content":"x"}],"reward":1}]]})"),
            "trajectories[0][0].episode[0]: missing required key 'role'");
  EXPECT_EQ(
      rejection(
          R"({"run_id":"r","trajectories":[[{"episode":[{"prompt":"p","chosen_response":"a","rejected_response":"b"}],"reward":1}]]})"),
      "trajectories[0][0].episode[0]: DPO items are not supported by this adapter; episode items need a "
      "'role'");
  EXPECT_EQ(
      rejection(
          R"({"run_id":"r","trajectories":[[{"episode":[{"role":"user","content":"x"}],"episode":[],"reward":1}]]})"),
      "trajectories[0][0]: duplicate key 'episode'");
  EXPECT_EQ(
      rejection(
          R"({"run_id":"r","trajectories":[[{"episode":[{"role":"user","content":"x","metadata":[]}],"reward":1}]]})"),
      "trajectories[0][0].episode[0].metadata: must be an object or null, not array");
  EXPECT_EQ(
      rejection(
          R"({"run_id":"r","trajectories":[[{"episode":[{"role":"user","content":"x"}],"reward":1,"shaped_rewards":["a"]}]]})"),
      "trajectories[0][0].shaped_rewards[0]: must be a number, got the string \"a\"");
}

TEST(CollectionPlan, RejectsBadBytesAndDeepNesting) {
  EXPECT_NE(rejection("").find("empty input"), std::string::npos);
  EXPECT_NE(rejection("{\"run_id\":\"\xff\",\"trajectories\":[]}").find("invalid UTF-8"), std::string::npos);
  std::string deep =
      "{\"run_id\":\"r\",\"trajectories\":[[{\"episode\":[{\"role\":\"user\",\"content\":\"x\","
      "\"metadata\":{\"a\":" +
      std::string(300, '[') + std::string(300, ']') + "}}],\"reward\":1}]]}";
  EXPECT_NE(rejection(deep).find("nesting deeper than 128 levels"), std::string::npos);
  EXPECT_NE(rejection("{\"run_id\":\"r\",\"trajectories\":[NaN]}")
                .find("invalid JSON at byte 30: unexpected character 'N'"),
            std::string::npos);
}

TEST(CollectionPlan, KeepsKeysInAnyOrderAndIgnoresUnknownOnes) {
  std::string text = R"({"extra": {"x": [1]}, "trajectories": [[{"reward": -2.5e-1, "metadata": {"id": 1},
      "episode": [{"content": "hi", "metadata": null, "role": "user", "logprobs": null},
                  {"logprobs": {}, "content": "yo", "role": "assistant"}], "shaped_rewards": [1, 2]}]],
      "run_id": "r-\u00e9"})";
  CollectionPlan p = nat::plan_collection(text, ValidationMode::Compat);
  EXPECT_EQ(p.run_id, "r-\xc3\xa9");
  EXPECT_EQ(p.trajectories_kept, 1u);
  EXPECT_EQ(p.groups[0].trajectories[0].reward, "-2.5e-1");
}
