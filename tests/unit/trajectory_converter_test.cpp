#include "convert/trajectory_converter.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "nat/collection_plan.h"

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

std::string convert(const std::string &text, nat::ValidationMode mode = nat::ValidationMode::Compat) {
  nat::CollectionPlan plan = nat::plan_collection(text, mode);
  std::string out;
  nat::StringSink sink(out);
  nat::TrajectoryConverter(text, plan).write_groups(sink, "[", ",", "]");
  return out;
}

bool fits_choice_logprobs(const json &lp) {
  if (!lp.is_object()) return false;
  for (const char *k : {"content", "refusal"}) {
    if (!lp.contains(k) || lp[k].is_null()) continue;
    if (!lp[k].is_array()) return false;
    for (const auto &t : lp[k]) {
      if (!t.is_object() || !t.contains("token") || !t["token"].is_string() || !t.contains("logprob") ||
          !t["logprob"].is_number() || !t.contains("top_logprobs") || !t["top_logprobs"].is_array())
        return false;
    }
  }
  return true;
}

// The conversion written the obvious way, over a parsed document: NAT's
// _construct_trajectory_groups in the output format of the streaming converter.
std::string reference_convert(const json &collection) {
  ordered_json groups = ordered_json::array();
  for (const auto &group : collection["trajectories"]) {
    ordered_json trajs = ordered_json::array();
    for (const auto &t : group) {
      bool ok = true;
      ordered_json mac = ordered_json::array();
      const auto &ep = t["episode"];
      for (size_t i = 0; i < ep.size(); ++i) {
        std::string role = ep[i]["role"];
        std::string chat = role == "user" || role == "system" ? role : "assistant";
        if (i > 0 && role == "assistant") {
          if (!fits_choice_logprobs(ep[i]["logprobs"])) ok = false;
          ordered_json choice;
          choice["finish_reason"] = "stop";
          choice["index"] = 0;
          choice["logprobs"] = ordered_json::parse(ep[i]["logprobs"].dump());
          choice["message"] = {{"role", "assistant"}, {"content", ep[i]["content"]}};
          mac.push_back(choice);
        } else {
          ordered_json m;
          m["role"] = chat;
          m["content"] = ep[i]["content"];
          mac.push_back(m);
        }
      }
      if (!ok) continue;
      ordered_json out;
      out["messages_and_choices"] = mac;
      out["tools"] = nullptr;
      out["additional_histories"] = ordered_json::array();
      out["reward"] = ordered_json::parse(t["reward"].dump());
      out["metrics"] = ordered_json::object();
      out["metadata"] = ordered_json::object();
      out["logs"] = ordered_json::array();
      trajs.push_back(out);
    }
    if (trajs.empty()) continue;
    ordered_json g;
    g["trajectories"] = trajs;
    g["exceptions"] = ordered_json::array();
    g["metadata"] = ordered_json::object();
    g["metrics"] = ordered_json::object();
    g["logs"] = ordered_json::array();
    groups.push_back(g);
  }
  return groups.dump();
}

json random_logprobs(std::mt19937 &rng, bool valid) {
  std::uniform_int_distribution<int> n(0, 5);
  json content = json::array();
  int tokens = n(rng);
  for (int i = 0; i < tokens; ++i) {
    json top = json::array();
    for (int k = 0; k < n(rng) % 3; ++k)
      top.push_back({{"token", "token_id:" + std::to_string(rng() % 50000)},
                     {"logprob", -static_cast<double>(rng() % 1000) / 100.0}});
    content.push_back({{"token", "token_id:" + std::to_string(rng() % 50000)},
                       {"bytes", {static_cast<int>(rng() % 256)}},
                       {"logprob", -static_cast<double>(rng() % 10000) / 1000.0},
                       {"top_logprobs", top}});
  }
  json lp = {{"content", content}, {"refusal", nullptr}};
  if (!valid) {
    switch (rng() % 3) {
      case 0:
        return json::array({1, 2});
      case 1:
        lp["content"] = "oops";
        break;
      default:
        lp["content"] = {{{"token", 5}, {"logprob", -1.0}, {"top_logprobs", json::array()}}};
    }
  }
  return lp;
}

std::string random_text(std::mt19937 &rng) {
  static const char *pieces[] = {"hello",
                                 " ",
                                 "\"quoted\"",
                                 "back\\slash",
                                 "line\nbreak",
                                 "tab\t",
                                 "\xc3\xa9t\xc3\xa9",
                                 "\xe4\xb8\xad\xe6\x96\x87",
                                 "\xf0\x9f\x98\x80",
                                 "</script>",
                                 "\x01",
                                 "{json: [1]}",
                                 ""};
  std::string s;
  for (int i = 0, n = static_cast<int>(rng() % 6); i < n; ++i) s += pieces[rng() % 13];
  return s;
}

json random_collection(std::mt19937 &rng) {
  static const char *later_roles[] = {"user", "assistant",   "system", "function",
                                      "tool", "environment", "other"};
  json groups = json::array();
  int ng = static_cast<int>(rng() % 5);
  for (int g = 0; g < ng; ++g) {
    json group = json::array();
    int nt = static_cast<int>(rng() % 4);
    for (int t = 0; t < nt; ++t) {
      json ep = json::array();
      ep.push_back({{"role", rng() % 2 ? "user" : "system"},
                    {"content", random_text(rng)},
                    {"logprobs", nullptr},
                    {"metadata", nullptr}});
      std::string prev = ep[0]["role"];
      int ni = static_cast<int>(rng() % 7);
      for (int i = 0; i < ni; ++i) {
        std::string role = later_roles[rng() % 7];
        if (role == "assistant" && prev == "assistant") role = "tool";
        json it = {{"role", role}, {"content", random_text(rng)}};
        if (role == "assistant") it["logprobs"] = random_logprobs(rng, rng() % 8 != 0);
        if (rng() % 4 == 0) it["metadata"] = {{"tool_call_id", "call_1"}};
        ep.push_back(it);
        prev = role;
      }
      json reward = rng() % 3 == 0 ? json(static_cast<int>(rng() % 5) - 2)
                                   : json(static_cast<double>(rng() % 1000) / 997.0);
      group.push_back(
          {{"episode", ep}, {"reward", reward}, {"shaped_rewards", nullptr}, {"metadata", {{"id", t}}}});
    }
    groups.push_back(group);
  }
  return {{"run_id", "art_run_" + std::to_string(rng() % 100000)}, {"trajectories", groups}};
}

}  // namespace

TEST(TrajectoryConverter, ConvertsEveryRoleAsNatDoes) {
  std::string text = R"({"run_id":"r","trajectories":[[{"episode":[
    {"role":"system","content":"S"},{"role":"user","content":"U"},
    {"role":"assistant","content":"A","logprobs":{"content":[{"token":"token_id:1","logprob":-0.5,"top_logprobs":[]}],"refusal":null}},
    {"role":"tool","content":"T","metadata":{"tool_call_id":"c1"}},{"role":"function","content":"F"},
    {"role":"environment","content":"E"},{"role":"other","content":"O"},{"role":"system","content":"S2"},
    {"role":"assistant","content":"B","logprobs":{}}],"reward":0.75,"shaped_rewards":[1],"metadata":{"id":3}}]]})";
  EXPECT_EQ(
      convert(text),
      R"([{"trajectories":[{"messages_and_choices":[{"role":"system","content":"S"},{"role":"user","content":"U"},)"
      R"({"finish_reason":"stop","index":0,"logprobs":{"content":[{"token":"token_id:1","logprob":-0.5,"top_logprobs":[]}],"refusal":null},"message":{"role":"assistant","content":"A"}},)"
      R"({"role":"assistant","content":"T"},{"role":"assistant","content":"F"},{"role":"assistant","content":"E"},)"
      R"({"role":"assistant","content":"O"},{"role":"system","content":"S2"},)"
      R"({"finish_reason":"stop","index":0,"logprobs":{},"message":{"role":"assistant","content":"B"}}],)"
      R"("tools":null,"additional_histories":[],"reward":0.75,"metrics":{},"metadata":{},"logs":[]}],)"
      R"("exceptions":[],"metadata":{},"metrics":{},"logs":[]}])");
}

TEST(TrajectoryConverter, PassesContentAndLogprobsThroughByteForByte) {
  std::string text =
      "{\"run_id\":\"r\",\"trajectories\":[[{\"reward\":1e-3,\"episode\":[{\"role\":\"user\","
      "\"content\":\"caf\\u00e9 \\\"x\\\" \xf0\x9f\x98\x80\"},{\"role\":\"assistant\",\"content\":\"\","
      "\"logprobs\":{ \"content\" : [ {\"token\":\"token_id:9\" , \"logprob\":-1E2,\"top_logprobs\":[],"
      "\"x\":1} ] }}]}]]}";
  std::string out = convert(text);
  EXPECT_NE(out.find("\"content\":\"caf\\u00e9 \\\"x\\\" \xf0\x9f\x98\x80\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"logprobs\":{ \"content\" : [ {\"token\":\"token_id:9\" , "
                     "\"logprob\":-1E2,\"top_logprobs\":[],\"x\":1} ] }"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"reward\":1e-3"), std::string::npos);
  EXPECT_TRUE(json::accept(out));
}

TEST(TrajectoryConverter, LeavesOutDroppedTrajectoriesAndEmptyGroups) {
  std::string text = R"({"run_id":"r","trajectories":[[],[{"episode":[{"role":"user","content":"x"},
    {"role":"assistant","content":"y","logprobs":[1]}],"reward":1}],[{"episode":[{"role":"user","content":"k"}],"reward":2},
    {"episode":[{"role":"user","content":"z"},{"role":"assistant","content":"w","logprobs":"bad"}],"reward":3}]]})";
  json out = json::parse(convert(text));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0]["trajectories"].size(), 1u);
  EXPECT_EQ(out[0]["trajectories"][0]["reward"], 2);
}

TEST(TrajectoryConverter, WritesJsonLinesOneGroupPerLine) {
  std::string text =
      R"({"run_id":"r","trajectories":[[{"episode":[{"role":"user","content":"a"}],"reward":1}],[],
    [{"episode":[{"role":"user","content":"b"}],"reward":2}]]})";
  nat::CollectionPlan plan = nat::plan_collection(text, nat::ValidationMode::Compat);
  std::string out;
  nat::StringSink sink(out);
  nat::TrajectoryConverter(text, plan).write_groups(sink, "", "\n", "\n");
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
  EXPECT_EQ(json::parse(out.substr(0, out.find('\n')))["trajectories"][0]["reward"], 1);
}

TEST(TrajectoryConverter, StreamsInChunksThatConcatenateToTheWholeBody) {
  std::mt19937 rng(7);
  json big = {{"run_id", "big"}, {"trajectories", json::array()}};
  for (int g = 0; g < 40; ++g) {
    json group = json::array();
    for (int t = 0; t < 8; ++t) {
      json lp = {{"content", json::array()}};
      for (int k = 0; k < 400; ++k)
        lp["content"].push_back(
            {{"token", "token_id:" + std::to_string(k)}, {"logprob", -0.1}, {"top_logprobs", json::array()}});
      group.push_back({{"episode",
                        {{{"role", "user"}, {"content", std::string(2000, 'u')}},
                         {{"role", "assistant"}, {"content", std::string(3000, 'a')}, {"logprobs", lp}}}},
                       {"reward", t}});
    }
    big["trajectories"].push_back(group);
  }
  std::string text = big.dump();
  struct CountingSink : nat::ByteSink {
    std::string all;
    size_t writes = 0;
    void write(std::string_view b) override {
      all.append(b);
      ++writes;
    }
  } sink;
  nat::CollectionPlan plan = nat::plan_collection(text, nat::ValidationMode::Compat);
  nat::TrajectoryConverter(text, plan).write_groups(sink, "[", ",", "]");
  EXPECT_GT(sink.writes, 3u);
  EXPECT_EQ(sink.all, reference_convert(big));
}

TEST(TrajectoryConverter, MatchesTheReferenceConversionByteForByteOnGeneratedCollections) {
  std::mt19937 rng(20261127);
  int compared = 0;
  for (int i = 0; i < 400; ++i) {
    json c = random_collection(rng);
    std::string text = c.dump();
    nat::CollectionPlan plan;
    try {
      plan = nat::plan_collection(text, nat::ValidationMode::Compat);
    } catch (const std::exception &e) {
      FAIL() << "generated collection rejected: " << e.what() << "\n" << text;
    }
    std::string out;
    nat::StringSink sink(out);
    nat::TrajectoryConverter(text, plan).write_groups(sink, "[", ",", "]");
    ASSERT_EQ(out, reference_convert(c)) << text;
    ++compared;
  }
  EXPECT_EQ(compared, 400);
}

// ---------------------------------------------------------------------------
// Line breaks in copied logprobs (JSON Lines framing), minify_json,
// numbers that overflow a double.

namespace {

std::string convert_jsonl(const std::string &text) {
  nat::CollectionPlan plan = nat::plan_collection(text, nat::ValidationMode::Compat);
  std::string out;
  nat::StringSink sink(out);
  nat::TrajectoryConverter(text, plan).write_groups(sink, "", "\n", "\n");
  return out;
}

std::vector<std::string> lines_of(const std::string &out) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(out.substr(start, nl - start));
  EXPECT_EQ(start, out.size()) << "output does not end with a newline";
  return lines;
}

// The obvious minify, byte by byte: what minify_json must produce.
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

std::string minify(std::string_view s) {
  std::string out(s.size(), '\0');
  out.resize(nat::minify_json(s, out.data()));
  return out;
}

// Valid JSON with whitespace of every kind between tokens, and strings full of
// what a minifier must leave alone: spaces, escaped quotes, backslashes
// (also at the end of a 16-byte block), escaped newlines, UTF-8.
std::string random_spaced_json(std::mt19937 &rng, int depth = 0) {
  static const char *ws[] = {"", "", " ", "  ", "\n", "\r\n", "\t", "\n    "};
  static const char *strings[] = {"\"a b\"",
                                  "\"\\\"\"",
                                  "\"\\\\\"",
                                  "\"x\\\\\\\"y\"",
                                  "\"line\\nbreak\"",
                                  "\"token_id:123\"",
                                  "\"\xc3\xa9 \xe6\xbc\xa2\"",
                                  "\"               \\\\\"",
                                  "\"\\u0022 \\\\ \\/\"",
                                  "\"\""};
  auto w = [&] { return std::string(ws[rng() % 8]); };
  switch (depth > 4 ? rng() % 3 : rng() % 5) {
    case 0:
      return strings[rng() % 10];
    case 1:
      return std::to_string(static_cast<int>(rng() % 2000) - 1000) + (rng() % 2 ? ".25e-3" : "");
    case 2:
      return rng() % 2 ? "true" : "null";
    case 3: {
      std::string s = "[" + w();
      for (int i = 0, n = static_cast<int>(rng() % 5); i < n; ++i)
        s += (i ? "," + w() : "") + random_spaced_json(rng, depth + 1) + w();
      return s + "]";
    }
    default: {
      std::string s = "{" + w();
      for (int i = 0, n = static_cast<int>(rng() % 5); i < n; ++i)
        s += (i ? "," + w() : "") + strings[rng() % 10] + w() + ":" + w() +
             random_spaced_json(rng, depth + 1) + w();
      return s + "}";
    }
  }
}

}  // namespace

TEST(TrajectoryConverter, MinifiesLogprobsWithLineBreaksSoJsonLinesStayOneRecordPerLine) {
  // tests/fuzz/reproducers/collection/jsonl-newline-in-copied-logprobs.json, and CRLF.
  std::string text =
      "{\"run_id\":\"r\",\"trajectories\":[[{\"episode\":[{\"role\":\"user\",\"content\":\"x\"},"
      "{\"role\":\"assistant\",\"content\":\"y\",\"logprobs\":{\n}}],\"reward\":1}],"
      "[{\"episode\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\","
      "\"logprobs\":"
      "{\r\n  \"content\": [\r\n    {\"token\": \"a b\\n\", \"logprob\": -0.5,\t\"top_logprobs\": []}\r\n  "
      "],\r\n"
      "  \"refusal\": null\r\n}}],\"reward\":2}]]}";
  std::string out = convert_jsonl(text);
  std::vector<std::string> lines = lines_of(out);
  ASSERT_EQ(lines.size(), 2u) << out;
  for (const std::string &line : lines) {
    EXPECT_EQ(line.find('\r'), std::string::npos) << line;
    EXPECT_TRUE(json::accept(line)) << line;
  }
  EXPECT_NE(lines[0].find("\"logprobs\":{},\"message\""), std::string::npos) << lines[0];
  EXPECT_NE(
      lines[1].find("\"logprobs\":{\"content\":[{\"token\":\"a b\\n\",\"logprob\":-0.5,\"top_logprobs\":[]}],"
                    "\"refusal\":null},\"message\""),
      std::string::npos)
      << lines[1];
  // The same as NAT's conversion, as JSON.
  json c = json::parse(text);
  json ref = json::parse(reference_convert(c));
  ASSERT_EQ(ref.size(), 2u);
  EXPECT_EQ(json::parse(lines[0]), ref[0]);
  EXPECT_EQ(json::parse(lines[1]), ref[1]);
}

TEST(TrajectoryConverter, CopiesLogprobsWithoutLineBreaksByteForByte) {
  // Python's json.dumps spacing (", ", ": "), tabs: no line break, so the
  // span is copied as it is (the hot path of the benchmark).
  const std::string lp =
      "{\"content\": [{\"token\": \"token_id:1\",\t\"logprob\": -0.5, \"top_logprobs\": []}], "
      "\"refusal\": null}";
  std::string text =
      "{\"run_id\":\"r\",\"trajectories\":[[{\"episode\":[{\"role\":\"user\",\"content\":\"x\"},"
      "{\"role\":\"assistant\",\"content\":\"y\",\"logprobs\":" +
      lp + "}],\"reward\":1}]]}";
  EXPECT_NE(convert(text).find("\"logprobs\":" + lp + ",\"message\""), std::string::npos);
  EXPECT_NE(convert_jsonl(text).find("\"logprobs\":" + lp + ",\"message\""), std::string::npos);
}

TEST(TrajectoryConverter, PassesNumbersThatOverflowADoubleThrough) {
  // By decision (tests/fuzz/reproducers/README.md): a logprob of
  // -1e999 is copied as written, as NAT's pydantic path reads it (-inf) and
  // ART's server (Python's json) reads it back the same.
  std::string text =
      R"({"run_id":"r","trajectories":[[{"episode":[{"role":"user","content":"x"},)"
      R"({"role":"assistant","content":"y","logprobs":{"content":[{"token":"a","logprob":-1e999,)"
      R"("top_logprobs":[]}]}}],"reward":1}]]})";
  EXPECT_NE(
      convert(text).find(R"("logprobs":{"content":[{"token":"a","logprob":-1e999,"top_logprobs":[]}]})"),
      std::string::npos);
}

TEST(MinifyJson, DropsWhitespaceOutsideStringsOnly) {
  EXPECT_EQ(minify(""), "");
  EXPECT_EQ(minify(" \t\r\n"), "");
  EXPECT_EQ(minify("{ \"a b\" : [ 1 , 2.5e-3 ,\n\"\\\" x\" ] }"), "{\"a b\":[1,2.5e-3,\"\\\" x\"]}");
  EXPECT_EQ(minify("[\"\\\\\" , \"\\\\\\\" \" ]"), "[\"\\\\\",\"\\\\\\\" \"]");
  EXPECT_EQ(minify("{\"content\": [], \"refusal\": null}"), "{\"content\":[],\"refusal\":null}");
  // Long enough for the 16-byte blocks, with a backslash as the last byte of
  // the first block (the escaped quote opens the second).
  std::string s = "[\"0123456789abc\\\"   \" ,\n  \"x y\" ,  1 ,  2 ,  3 ,  4 ,  5 ]";
  ASSERT_EQ(s[15], '\\');
  EXPECT_EQ(minify(s), "[\"0123456789abc\\\"   \",\"x y\",1,2,3,4,5]");
}

TEST(MinifyJson, MatchesTheByteByByteMinifyOnGeneratedJson) {
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string s = random_spaced_json(rng);
    // Every alignment of the 16-byte blocks against the text.
    for (size_t pad = 0; pad < 3; ++pad) {
      std::string t = std::string(pad * 7, ' ') + s;
      std::string want = reference_minify(t);
      ASSERT_EQ(minify(t), want) << t;
      ASSERT_TRUE(json::accept(want)) << want;
      ASSERT_EQ(json::parse(want), json::parse(t));
    }
  }
}

TEST(MinifyJson, WritesNothingPastTheInputSize) {
  // minify_json may write 16 bytes at a time; never beyond json.size().
  std::mt19937 rng(11);
  for (int i = 0; i < 500; ++i) {
    std::string s = random_spaced_json(rng);
    std::vector<char> out(s.size() + 64, '\x7f');
    size_t n = nat::minify_json(s, out.data());
    ASSERT_LE(n, s.size());
    for (size_t k = s.size(); k < out.size(); ++k) ASSERT_EQ(out[k], '\x7f') << s;
  }
}
