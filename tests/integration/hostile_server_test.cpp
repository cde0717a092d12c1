// The ART plugin loaded as a real .so and driven through its C ABI against a
// hostile server (tests/hostile_server/hostile_server.py): every byte a
// server sends is an attack. One test per class of attack: deep and huge
// replies on every route, the api key quoted at every cut position, control
// characters in every value a server hands back, close-delimited and
// truncated training streams, /_get_step failing after a clean stream,
// inference URLs with user-info and other odd URLs, invalid UTF-8 and NUL
// bytes, endless error bodies, 101 replies, out-of-range step numbers, the
// health check's time bound, the timeout rule and duplicate metric keys.
//
// Every message, status and event the adapter produces on the way is
// checked: valid UTF-8, no NUL, and neither the key nor any 8-byte piece of
// it. Runtime: about 20-30 s (most of it in the timeout tests).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

#include "child_server.h"
#include "plugin_api.h"
#include "reference_server.h"

using nat::testing::Adapter;
using nat::testing::CallResult;
using nat::testing::PluginApi;
using nlohmann::json;

namespace {

constexpr int32_t kInvalidArgument = 1, kUnavailable = 5;

// The key every hostile reply tries to leak. No 8-byte piece of it occurs
// in anything else the adapter writes.
const std::string kKey = "Kx7Qp2Zr9Wm4Tn6Vb8Yc3Hd5Jf1Lg0Ns";

const PluginApi &api() { return PluginApi::art_plugin(); }

std::string env_or(const char *name, const std::string &fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

bool valid_utf8(const std::string &s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// Fails the test where `text` (a message, status or event) is not what the
// header promises: valid UTF-8, no NUL, no api key, no 8-byte piece of it.
void expect_clean(const std::string &text, const std::string &where) {
  EXPECT_TRUE(valid_utf8(text)) << where << ": not valid UTF-8: " << text;
  EXPECT_EQ(text.find('\0'), std::string::npos) << where << ": NUL byte";
  for (size_t i = 0; i + 8 <= kKey.size(); ++i)
    ASSERT_EQ(text.find(kKey.substr(i, 8)), std::string::npos)
        << where << ": piece '" << kKey.substr(i, 8) << "' of the key at offset " << i << ": " << text;
}

// The hostile server as a child process (python3, standard library only).
class HostileServer {
 public:
  HostileServer() {
    python_ = env_or("HOSTILE_PYTHON", "python3");
    script_ = env_or("HOSTILE_SERVER_SCRIPT",
                     env_or("NAT_SOURCE_ROOT", ".") + "/tests/hostile_server/hostile_server.py");
  }
  ~HostileServer() { stop(); }

  void start(const json &script = json::object()) {
    stop();
    child_ = std::make_unique<nat::testing::ChildServer>(
        std::vector<std::string>{python_, script_, "--script", script.dump()});
    port_ = child_->ready().at("port").get<int>();
    trap_port_ = child_->ready().at("trap_port").get<int>();
  }

  void stop() { child_.reset(); }

  int port() const { return port_; }
  int trap_port() const { return trap_port_; }
  std::string url(const std::string &path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void script(const json &s) {
    auto r = nat::testing::http_request("POST", url("/_hostile/script"), s.dump());
    if (r.status != 200) throw std::runtime_error("script refused");
  }
  json requests() const {
    return json::parse(nat::testing::http_request("GET", url("/_hostile/requests")).body);
  }
  void reset() { nat::testing::http_request("POST", url("/_hostile/reset")); }
  std::vector<json> requests_to(const std::string &path) const {
    std::vector<json> out;
    for (const auto &r : requests())
      if (r["path"] == path) out.push_back(r);
    return out;
  }
  size_t trap_hits() const {
    size_t n = 0;
    for (const auto &r : requests())
      if (r["port"] == "trap") ++n;
    return n;
  }

 private:
  std::string python_, script_;
  std::unique_ptr<nat::testing::ChildServer> child_;
  int port_ = 0, trap_port_ = 0;
};

json collection(const std::string &run_id) {
  auto logprobs = [](int seed) {
    json content = json::array();
    for (int i = 0; i < 2; ++i)
      content.push_back({{"token", "token_id:" + std::to_string(100 + seed + i)},
                         {"logprob", -0.1 * (i + 1)},
                         {"bytes", {104}},
                         {"top_logprobs", json::array()}});
    return json{{"content", content}};
  };
  json group = json::array();
  for (int t = 0; t < 2; ++t)
    group.push_back({{"episode",
                      {{{"role", "user"}, {"content", "Your move?"}},
                       {{"role", "assistant"}, {"content", "B2"}, {"logprobs", logprobs(t)}}}},
                     {"reward", t == 0 ? 1.0 : 0.0}});
  return {{"run_id", run_id}, {"trajectories", {group}}};
}

std::string deep(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    char tmpl[] = "/tmp/nat-hostile-XXXXXX";
    const char *dir = ::mkdtemp(tmpl);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  json config(json native = json::object()) const {
    json c = {{"_type", "openpipe_art_trainer_adapter"},
              {"backend",
               {{"ip", "127.0.0.1"},
                {"port", server_.port()},
                {"name", "hostile_run"},
                {"api_key", kKey},
                {"server_config", {{"server_args", {{"api_key", kKey}}}}}}}};
    json n = {{"retries", 1},
              {"retry_backoff_s", 0.01},
              {"connect_timeout_s", 2},
              {"request_timeout_s", 5},
              {"get_step_timeout_s", 5},
              {"health_timeout_s", 2},
              {"spool_dir", (dir_ / "spool").string()}};
    for (auto it = native.begin(); it != native.end(); ++it) n[it.key()] = it.value();
    c["native"] = n;
    return c;
  }

  // Records and checks what the adapter said.
  CallResult seen(const CallResult &r, const std::string &where) {
    expect_clean(r.message, where + " (message)");
    if (r.out) expect_clean(*r.out, where + " (output)");
    return r;
  }

  CallResult initialize(Adapter &a, const std::string &where) { return seen(a.initialize(), where); }

  // Submits, drains the events and waits: the final status (every event
  // and status checked).
  json run_job(Adapter &a, const std::string &run_id, double timeout_s = 60) {
    CallResult sub = seen(a.submit(collection(run_id).dump()), run_id + " submit");
    EXPECT_TRUE(sub.ok()) << sub.message;
    if (!sub.ok()) return json::object();
    for (int i = 0; i < 1000; ++i) {
      CallResult ev = seen(a.next_event(sub.out.value(), timeout_s), run_id + " event");
      if (!ev.ok() || !ev.out) break;
      if (ev.json().value("final", false)) break;
    }
    CallResult fin = seen(a.wait(sub.out.value(), 0.1, timeout_s), run_id + " wait");
    EXPECT_TRUE(fin.ok()) << fin.message;
    return fin.ok() ? fin.json() : json::object();
  }

  HostileServer server_;
  std::filesystem::path dir_;
};

// A reply nested 100,000 levels deep on every route, as an error and as a
// success, and one as a training stream line: a clear error (or, for
// /openapi.json, the documented fallback), never a crash.
TEST_F(Hostile, DeepRepliesOnEveryRouteNeverCrash) {
  const std::string detail = "{\"detail\":" + deep(100000) + "}";
  struct Case {
    std::string route;
    json reply;
    std::string expected;  // in initialize's message; empty: initialize succeeds
  };
  const std::vector<Case> cases = {
      {"/healthcheck", {{"status", 500}, {"body", detail}}, "GET /healthcheck returned HTTP 500"},
      {"/register", {{"status", 500}, {"body", detail}}, "POST /register returned HTTP 500"},
      {"/register", {{"status", 422}, {"body", deep(100000)}}, "POST /register returned HTTP 422"},
      {"/_prepare_backend_for_training", {{"status", 200}, {"body", detail}}, "expected a JSON array"},
      {"/_prepare_backend_for_training", {{"status", 200}, {"body", deep(100000)}}, "nesting deeper than"},
      {"/_prepare_backend_for_training", {{"status", 500}, {"body", detail}}, "returned HTTP 500"},
      {"/_get_step", {{"status", 500}, {"body", detail}}, "POST /_get_step returned HTTP 500"},
      {"/_get_step", {{"status", 200}, {"body", deep(100000)}}, "POST /_get_step: expected a step number"},
      {"/openapi.json", {{"status", 200}, {"body", "{\"paths\":" + deep(100000) + "}"}}, ""},
      {"/v1/models", {{"status", 200}, {"body", detail}}, ""},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.route + " " + c.reply.dump().substr(0, 60));
    server_.script({{c.route, c.reply}});
    Adapter a(api(), config());
    CallResult r = initialize(a, c.route);
    if (c.expected.empty()) {
      EXPECT_TRUE(r.ok()) << r.message;
    } else {
      EXPECT_EQ(r.code, kUnavailable) << r.message;
      EXPECT_NE(r.message.find(c.expected), std::string::npos) << r.message;
      EXPECT_LT(r.message.size(), 4096u);
    }
  }
  // On the job's thread: a deep 500 from /_train_model, a deep stream line.
  server_.script(json::object());
  Adapter a(api(), config());
  ASSERT_TRUE(initialize(a, "init").ok());
  server_.script({{"/_train_model", {{"status", 500}, {"body", detail}}}});
  json st = run_job(a, "deep_500");
  EXPECT_EQ(st["status"], "failed");
  EXPECT_NE(st["message"].get<std::string>().find("POST /_train_model returned HTTP 500"), std::string::npos);
  server_.script(
      {{"/_train_model", {{"lines", {"{\"loss\":" + deep(100000) + "}"}}, {"framing", "chunked"}}}});
  st = run_job(a, "deep_line");
  EXPECT_EQ(st["status"], "failed");
  EXPECT_NE(st["message"].get<std::string>().find("nesting deeper than"), std::string::npos) << st["message"];
  EXPECT_TRUE(std::filesystem::exists(st["metadata"]["spool_file"].get<std::string>()));
}

// Bodies larger than native.max_response_bytes are refused; long error
// details are quoted shortened.
TEST_F(Hostile, HugeRepliesAreRefusedOrShortened) {
  server_.script({{"/_get_step", {{"status", 200}, {"repeat", {{"text", "7"}, {"times", 3 << 20}}}}}});
  Adapter a(api(), config({{"max_response_bytes", 1 << 20}}));
  CallResult r = initialize(a, "huge step");
  EXPECT_EQ(r.code, kUnavailable);
  EXPECT_NE(r.message.find("response larger than 1048576 bytes"), std::string::npos) << r.message;

  server_.script({{"/register", {{"status", 500}, {"repeat", {{"text", "x"}, {"times", 900000}}}}}});
  r = initialize(a, "long detail");
  EXPECT_EQ(r.code, kUnavailable);
  EXPECT_NE(r.message.find("POST /register returned HTTP 500: xxxx"), std::string::npos)
      << r.message.substr(0, 200);
  EXPECT_LT(r.message.size(), 2200u);
}

// The key, quoted by the server at every position around each place a
// message cuts a reply (2,000 bytes of an error detail, 200 of an
// unexpected /_get_step answer, the error body of /_train_model), in a JSON
// detail and in a plain body: neither the key nor any 8-byte piece of it
// comes back.
TEST_F(Hostile, TheKeyNeverLeaksAtAnyCutPosition) {
  Adapter a(api(), config({{"retries", 0}}));
  int masked = 0;
  for (size_t before = 2000 - kKey.size() - 2; before <= 2001; ++before) {
    std::string text = std::string(before, 'x') + kKey + "yyyy";
    for (const json &reply : {json{{"status", 500}, {"body", json{{"detail", text}}.dump()}},
                              json{{"status", 500}, {"body", text}}}) {
      server_.script({{"/register", reply}});
      CallResult r = initialize(a, "register cut at " + std::to_string(before));
      EXPECT_EQ(r.code, kUnavailable);
      if (r.message.find("[redacted]") != std::string::npos) ++masked;
    }
  }
  for (size_t before = 200 - kKey.size() - 2; before <= 201; ++before) {
    std::string text = "\"" + std::string(before - 1, 'x') + kKey + "yyyy\"";
    server_.script({{"/_get_step", {{"status", 200}, {"body", text}}}});
    CallResult r = initialize(a, "get_step cut at " + std::to_string(before));
    EXPECT_EQ(r.code, kUnavailable);
    EXPECT_NE(r.message.find("expected a step number"), std::string::npos) << r.message;
    if (r.message.find("[redacted]") != std::string::npos) ++masked;
  }
  EXPECT_GT(masked, 40) << "the key was not where the cuts are";
  server_.script(json::object());
  ASSERT_TRUE(initialize(a, "init").ok());
  for (size_t before : {size_t{1960}, size_t{1980}, size_t{1990}, size_t{1995}, size_t{2000}}) {
    server_.script({{"/_train_model", {{"status", 500}, {"body", std::string(before, 'z') + kKey}}}});
    json st = run_job(a, "train_cut_" + std::to_string(before));
    EXPECT_EQ(st["status"], "failed");
  }
  // The key echoed in stream lines, events and statuses.
  server_.script(
      {{"/_train_model",
        {{"lines", {json{{"loss", 1}, {"echo", kKey}, {kKey, 2}, {"num_gradient_steps", 1}}.dump()}},
         {"framing", "chunked"}}}});
  json st = run_job(a, "echo_in_stream");
  EXPECT_EQ(st["status"], "completed");
  seen(a.jobs(), "jobs");
}

// Control characters in the values a server hands back that end up in a
// request: the api key (an Authorization header) and the base_url (the
// request line and Host header). The call fails naming the field, and
// nothing with an injected header is ever sent.
TEST_F(Hostile, ControlCharactersInServerValuesAreRefused) {
  const std::vector<std::string> bad = {"\r\nX-Injected: 1",  "\n",   "\r",     "\t",
                                        std::string(1, '\0'), "\x7f", "\x1b[2J"};
  for (const std::string &c : bad) {
    SCOPED_TRACE(json(c).dump());
    server_.script(
        {{"/_prepare_backend_for_training",
          {{"body", json::array({"http://0.0.0.0:{port}/v1", "prefix-key" + c + "suffix"}).dump()}}}});
    Adapter a(api(), config());
    CallResult r = initialize(a, "key with control char");
    EXPECT_EQ(r.code, kUnavailable);
    EXPECT_NE(r.message.find("the api_key it returned contains a control character"), std::string::npos)
        << r.message;
    server_.script(
        {{"/_prepare_backend_for_training",
          {{"body", json::array({"http://0.0.0.0:{port}/v1" + c + "x", "fine-key-123"}).dump()}}}});
    r = initialize(a, "url with control char");
    EXPECT_EQ(r.code, kUnavailable);
    EXPECT_NE(r.message.find("the base_url it returned contains a control character"), std::string::npos)
        << r.message;
  }
  EXPECT_TRUE(server_.requests_to("/v1/models").empty());
  // A key with CR/LF in the config: refused at create, or (defence in depth)
  // never sent by the HTTP layer.
  json c = config();
  c["backend"]["api_key"] = "sk-config\r\nX-Injected: 1";
  std::string text = c.dump();
  nat_trainer_adapter *h = nullptr;
  nat_trainer_adapter_error *e = api().create(text.data(), text.size(), &h);
  if (e) {
    EXPECT_EQ(api().error_code(e), kInvalidArgument);
    api().error_free(e);
  } else {
    int32_t healthy = 1;
    nat_trainer_adapter_error *he = api().is_healthy(h, &healthy);
    EXPECT_EQ(he, nullptr);
    EXPECT_EQ(healthy, 0);
    api().error_free(he);
    api().destroy(h);
  }
  for (const auto &rq : server_.requests())
    EXPECT_EQ(rq["headers"].get<std::string>().find("X-Injected"), std::string::npos) << rq.dump();
}

// A training stream is completed only with its proper end (the final chunk,
// or all of its Content-Length) and as many steps as it announced; anything
// else fails and keeps the spool file.
TEST_F(Hostile, OnlyAProperlyEndedStreamCompletes) {
  Adapter a(api(), config());
  ASSERT_TRUE(initialize(a, "init").ok());
  const std::string step5 = R"({"loss": 0.5, "num_gradient_steps": 5})";
  const std::string step2 = R"({"loss": 0.5, "num_gradient_steps": 2})";
  struct Case {
    std::string name;
    json reply;
    std::string status;
    std::string expected;
    double progress;  // percentage of the announced steps done; -1: none
  };
  const std::vector<Case> cases = {
      {"close_1_of_5",
       {{"lines", {step5}}, {"framing", "close"}, {"version", "HTTP/1.0"}},
       "failed",
       "ended by closing the connection",
       20},
      {"close_2_of_2",
       {{"lines", {step2, step2}}, {"framing", "close"}},
       "failed",
       "ended by closing the connection",
       100},
      {"claims_chunked_sends_raw",
       {{"lines", {step2, step2}},
        {"framing", "close"},
        {"version", "HTTP/1.0"},
        {"headers", {{"Transfer-Encoding", "chunked"}}}},
       "failed",
       "ended without its final chunk after 0 gradient steps",
       -1},
      {"truncated_1_of_5",
       {{"lines", {step5}}, {"framing", "chunked_truncated"}},
       "failed",
       "ended without its final chunk after 1 of 5",
       20},
      {"chunked_1_of_5",
       {{"lines", {step5}}, {"framing", "chunked"}},
       "failed",
       "fewer than it announced",
       20},
      {"length_short",
       {{"lines", {step2, step2}}, {"framing", "length_short"}},
       "failed",
       "ended without its final chunk after 2 of 2",
       100},
      {"length_2_of_2",
       {{"lines", {step2, step2}}, {"framing", "length"}},
       "completed",
       "completed successfully",
       100},
      {"chunked_2_of_2",
       {{"lines", {step2, step2}}, {"framing", "chunked"}},
       "completed",
       "completed successfully",
       100},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    server_.script({{"/_train_model", c.reply}});
    json st = run_job(a, c.name);
    EXPECT_EQ(st["status"], c.status) << st.dump();
    EXPECT_NE(st["message"].get<std::string>().find(c.expected), std::string::npos) << st["message"];
    std::string spool = st["metadata"]["spool_file"];
    EXPECT_EQ(st["progress"], c.progress < 0 ? json() : json(c.progress));
    if (c.status == "completed") {
      EXPECT_FALSE(std::filesystem::exists(spool));
    } else {
      EXPECT_TRUE(std::filesystem::exists(spool)) << spool;
    }
  }
}

// /_get_step failing after a clean stream: retried like every unary call;
// when it keeps failing, the trained work stands (completed, with a note).
TEST_F(Hostile, GetStepFailuresAfterACleanStreamDoNotFailTrainedWork) {
  Adapter a(api(), config({{"retries", 2}}));
  ASSERT_TRUE(initialize(a, "init").ok());
  server_.script({{"/_get_step", {{{"body", "1"}}, {{"status", 503}}, {{"status", 503}}, {{"body", "2"}}}}});
  json st = run_job(a, "two_503");
  EXPECT_EQ(st["status"], "completed") << st.dump();
  EXPECT_EQ(st["metadata"]["step_after"], 2);
  EXPECT_FALSE(std::filesystem::exists(st["metadata"]["spool_file"].get<std::string>()));

  server_.script({{"/_get_step", {{{"body", "1"}}, {{"status", 503}}}}});
  st = run_job(a, "always_503");
  EXPECT_EQ(st["status"], "completed") << st.dump();
  EXPECT_FALSE(st["metadata"].contains("step_after"));
  std::string notes = st["metadata"]["stream_notes"].dump();
  EXPECT_NE(notes.find("/_get_step failed afterwards"), std::string::npos) << notes;
  EXPECT_NE(notes.find("HTTP 503"), std::string::npos) << notes;
  EXPECT_EQ(server_.requests_to("/_get_step").size(),
            1u + 3u + 1u + 3u + 1u);  // init, 2 jobs x (before + 3 after)

  server_.script({{"/_get_step", {{{"body", "1"}}, {{"body", "18446744073709551615"}}}}});
  st = run_job(a, "step_out_of_range_after");
  EXPECT_EQ(st["status"], "completed") << st.dump();
  EXPECT_NE(st["metadata"]["stream_notes"].dump().find("out of range"), std::string::npos);
}

// Inference URLs chosen to send the probe (with the Bearer key) to a host
// the server picks: user-info is refused, other odd URLs are refused or
// rewritten to the configured host; the trap port is never contacted.
TEST_F(Hostile, InferenceUrlTricksNeverRedirectTheProbe) {
  struct Case {
    std::string url;
    std::string refused_because;  // empty: accepted, rewritten to 127.0.0.1
  };
  const std::vector<Case> cases = {
      {"http://0.0.0.0:1@localhost:{trap_port}/v1", "user-info"},
      {"http://0.0.0.0:{port}@localhost:{trap_port}/v1", "user-info"},
      {"http://user@0.0.0.0:{trap_port}/v1", "user-info"},
      {"http://user:pass@0.0.0.0:{trap_port}/v1", "user-info"},
      {"ftp://0.0.0.0:{trap_port}/v1", "scheme"},
      {"file:///etc/passwd", "scheme"},
      {"not a url", "malformed"},
      {"", "malformed"},
      {"http://[::1", "malformed"},
      {"//localhost:{trap_port}/v1", "malformed"},
      {"HTTP://0.0.0.0:{port}/v1", ""},
      {"http://0.0.0.0:{port}/v1#@localhost:{trap_port}", ""},
      {"http://0.0.0.0:{port}/v1?next=@localhost:{trap_port}", ""},
      {"http://localhost:{port}/v1/", ""},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.url);
    server_.script(
        {{"/_prepare_backend_for_training", {{"body", json::array({c.url, "fine-key-123"}).dump()}}}});
    Adapter a(api(), config());
    CallResult r = initialize(a, c.url);
    if (c.refused_because.empty()) {
      EXPECT_TRUE(r.ok()) << r.message;
    } else {
      EXPECT_EQ(r.code, kUnavailable);
      EXPECT_NE(r.message.find("the base_url it returned"), std::string::npos) << r.message;
      EXPECT_NE(r.message.find(c.refused_because), std::string::npos) << r.message;
    }
  }
  EXPECT_EQ(server_.trap_hits(), 0u) << server_.requests().dump();
}

// Invalid UTF-8, NUL bytes and multi-byte characters at the cut, quoted from
// error bodies: messages stay valid UTF-8, are not cut at a NUL, and show
// the bytes escaped.
TEST_F(Hostile, InvalidUtf8AndNulBytesInQuotedRepliesStayPrintable) {
  Adapter a(api(), config({{"retries", 0}}));
  server_.script(
      {{"/register",
        {{"status", 500}, {"body_hex", "6162ff00fe63c3e2829f64"}}}});  // ab\xff\0\xfec + bad seqs + d
  CallResult r = initialize(a, "bytes");
  EXPECT_EQ(r.code, kUnavailable);
  EXPECT_NE(r.message.find("ab\\xff\\x00\\xfec"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("d"), std::string::npos);
  for (int shift = 0; shift < 4; ++shift) {
    std::string text = std::string(shift, 'a');
    while (text.size() < 2100) text += "\xe2\x82\xac\xf0\x9f\x98\x80";  // euro sign, emoji
    server_.script({{"/register", {{"status", 500}, {"body", json{{"detail", text}}.dump()}}}});
    r = initialize(a, "multibyte cut " + std::to_string(shift));
    EXPECT_EQ(r.code, kUnavailable);
  }
  server_.script(json::object());
  ASSERT_TRUE(initialize(a, "init").ok());
  server_.script({{"/_train_model", {{"status", 500}, {"body_hex", "00ff41c0af42"}}}});
  json st = run_job(a, "bad_bytes_500");
  EXPECT_EQ(st["status"], "failed");
  EXPECT_NE(st["message"].get<std::string>().find("\\x00\\xffA\\xc0\\xafB"), std::string::npos)
      << st["message"];
  // A stream line that is not UTF-8 fails the job with a printable message.
  server_.script(
      {{"/_train_model", {{"body_hex", "7b226c6f7373223a2022fffe227d0a"}, {"framing", "chunked"}}}});
  st = run_job(a, "bad_bytes_line");
  EXPECT_EQ(st["status"], "failed");
}

// A 500 whose body never ends, fast or slow: the job ends (the capped error
// body is full, or its deadline passed), it does not run until cancelled.
TEST_F(Hostile, EndlessErrorBodiesEndTheJob) {
  Adapter a(api(), config({{"request_timeout_s", 2}}));
  ASSERT_TRUE(initialize(a, "init").ok());
  server_.script(
      {{"/_train_model",
        {{"status", 500}, {"framing", "chunked"}, {"endless", {{"chunk", "oops "}, {"max_seconds", 40}}}}}});
  auto t0 = std::chrono::steady_clock::now();
  json st = run_job(a, "endless_fast", 30);
  EXPECT_EQ(st["status"], "failed");
  EXPECT_NE(st["message"].get<std::string>().find("POST /_train_model returned HTTP 500: oops oops"),
            std::string::npos)
      << st["message"].get<std::string>().substr(0, 200);
  server_.script({{"/_train_model",
                   {{"status", 502},
                    {"framing", "close"},
                    {"endless", {{"chunk", "."}, {"interval", 0.2}, {"max_seconds", 40}}}}}});
  st = run_job(a, "endless_slow", 30);
  EXPECT_EQ(st["status"], "failed");
  EXPECT_NE(st["message"].get<std::string>().find("HTTP 502"), std::string::npos) << st["message"];
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_TRUE(std::filesystem::exists(st["metadata"]["spool_file"].get<std::string>()));
}

// 101 Switching Protocols in place of a training stream or a unary answer.
TEST_F(Hostile, A101ReplyIsAClearFailure) {
  Adapter a(api(), config());
  ASSERT_TRUE(initialize(a, "init").ok());
  for (const std::string framing : {"close", "length"}) {
    server_.script({{"/_train_model",
                     {{"status", 101},
                      {"reason", "Switching Protocols"},
                      {"headers", {{"Upgrade", "websocket"}}},
                      {"framing", framing}}}});
    json st = run_job(a, "switching_" + framing);
    EXPECT_EQ(st["status"], "failed");
    std::string msg = st["message"];
    EXPECT_NE(msg.find("101"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("()"), std::string::npos) << msg;
  }
  server_.script(
      {{"/register", {{"status", 101}, {"reason", "Switching Protocols"}, {"framing", "length"}}}});
  CallResult r = initialize(a, "register 101");
  EXPECT_EQ(r.code, kUnavailable);
  EXPECT_EQ(r.message.find("()"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find(": ."), std::string::npos) << r.message;
}

// Step numbers that no int64 holds, or that are no step at all.
TEST_F(Hostile, OutOfRangeStepNumbersAreRefused) {
  Adapter a(api(), config({{"retries", 0}}));
  for (const std::string body :
       {"18446744073709551615", "9223372036854775808", "-1", "1.5", "1e3", "\"7\"", "null", ""}) {
    SCOPED_TRACE(body);
    server_.script({{"/_get_step", {{"body", body}}}});
    CallResult r = initialize(a, "step " + body);
    EXPECT_EQ(r.code, kUnavailable);
    EXPECT_NE(r.message.find("POST /_get_step: expected a step number"), std::string::npos) << r.message;
  }
  server_.script({{"/_get_step", {{"body", "9223372036854775807"}}}});
  EXPECT_TRUE(initialize(a, "largest step").ok());
}

// is_healthy probes the control and the inference server at once: the call
// takes at most about one health timeout, even when the control server
// answers just in time and the inference server hangs (one after the other,
// that would be 1.3 + 1.5 s).
TEST_F(Hostile, IsHealthyTakesAtMostOneHealthTimeout) {
  Adapter a(api(), config({{"health_timeout_s", 1.5}}));
  ASSERT_TRUE(initialize(a, "init").ok());
  for (double control_delay : {1.3, 4.0}) {
    server_.script({{"/healthcheck", {{"delay", control_delay}}}, {"/v1/models", {{"delay", 4}}}});
    auto t0 = std::chrono::steady_clock::now();
    int32_t healthy = 1;
    ASSERT_TRUE(seen(a.is_healthy(&healthy), "is_healthy").ok());
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(healthy, 0);
    EXPECT_LT(took, 2.3) << "control server delayed " << control_delay << " s";
    EXPECT_GE(took, 1.4);
  }
}

// One rule for timeouts: a request to the server that runs out of time is
// UNAVAILABLE on every route.
TEST_F(Hostile, TimeoutsAreUnavailableOnEveryRoute) {
  for (const std::string route : {"/healthcheck", "/openapi.json", "/register", "/_get_step"}) {
    SCOPED_TRACE(route);
    server_.script({{route, {{"delay", 3}}}});
    Adapter a(api(), config({{"retries", 0}, {"request_timeout_s", 1}, {"get_step_timeout_s", 1}}));
    CallResult r = initialize(a, route);
    EXPECT_EQ(r.code, kUnavailable) << r.message;
    EXPECT_NE(r.message.find("timed out"), std::string::npos) << r.message;
  }
}

// Duplicate keys in log_progress metrics are refused, as in collections.
TEST_F(Hostile, DuplicateMetricKeysAreRefused) {
  Adapter a(api(), config());
  const std::string ref = R"({"run_id":"dups","backend":"openpipe-art"})";
  const auto dir = dir_ / "progress";
  for (const std::string metrics :
       {R"({"loss": 1, "loss": 2})", R"({"a": {"x": 1, "x": 1}})", R"({"a": [{"k": 1, "k": 2}]})"}) {
    CallResult r = seen(a.log_progress(ref, metrics, dir.c_str()), "log_progress");
    EXPECT_EQ(r.code, kInvalidArgument) << metrics;
    EXPECT_NE(r.message.find("metrics: duplicate key"), std::string::npos) << r.message;
  }
  EXPECT_TRUE(
      a.log_progress(ref, R"({"loss": 1, "a": {"loss": 2}, "b": [{"loss": 3}, {"loss": 4}]})", dir.c_str())
          .ok());
}

}  // namespace
