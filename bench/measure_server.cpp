// 4-5: a real submit to the reference ART server through the timing proxy,
// and wait_until_complete latency.
#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"
#include "timing_proxy.h"

extern char **environ;

namespace fs = std::filesystem;

namespace nat::bench {
namespace {

// ---------------------------------------------------------------------------
// 4-5: the reference ART server
// ---------------------------------------------------------------------------

size_t curl_collect(char *p, size_t s, size_t n, void *ud) {
  static_cast<std::string *>(ud)->append(p, s * n);
  return s * n;
}

std::string http_get(const std::string &url) {
  CURL *c = curl_easy_init();
  std::string body;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) throw BenchError("GET " + url + ": " + curl_easy_strerror(rc));
  return body;
}

class ArtServer {
 public:
  ArtServer(const std::string &python, const std::string &script, const std::string &data_dir) {
    int p[2];
    if (::pipe(p) != 0) throw BenchError("pipe failed");
    std::vector<std::string> args = {python,
                                     script,
                                     "--dialect",
                                     "0.4",
                                     "--port",
                                     "0",
                                     "--inference-port",
                                     "0",
                                     "--data-dir",
                                     data_dir,
                                     "--log-file",
                                     data_dir + "/server.log",
                                     "--record-body-cap",
                                     "0"};
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    int rc = posix_spawn(&pid_, python.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    if (rc != 0) {
      ::close(p[0]);
      throw BenchError("cannot start the reference ART server");
    }
    std::string line;
    auto deadline = Clock::now() + std::chrono::seconds(180);
    while (Clock::now() < deadline) {
      pollfd pfd{p[0], POLLIN, 0};
      if (::poll(&pfd, 1, 1000) <= 0) continue;
      char ch;
      ssize_t n = ::read(p[0], &ch, 1);
      if (n <= 0 || ch == '\n') break;
      line.push_back(ch);
    }
    ::close(p[0]);
    try {
      nlohmann::json ready = nlohmann::json::parse(line);
      control_port_ = ready.at("control_port").get<int>();
      version_ = ready.value("art_version", "?");
    } catch (const std::exception &) {
      stop();
      throw BenchError("the reference ART server did not start (got '" + line + "'); see " + data_dir +
                       "/server.log");
    }
  }
  ~ArtServer() { stop(); }
  int control_port() const { return control_port_; }
  const std::string &version() const { return version_; }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int control_port_ = 0;
  std::string version_;
};

struct SubmitMeasure {
  double submit_s = 0, submit_cpu_s = 0;  // the submit() call, wall and thread CPU time
  // From the start of submit(), steady clock:
  double req_headers_s = -1, body_first_s = -1, body_last_s = -1, resp_start_s = -1, resp_first_line_s = -1,
         resp_end_s = -1, started_event_s = -1, first_step_s = -1, final_event_s = -1, wait_return_s = -1;
  double server_request_s = -1;  // the server's recorded request time (wall clock) relative to submit
  uint64_t proxy_body_bytes = 0, server_body_size = 0, metadata_body_bytes = 0;
  double metadata_upload_first_byte_s = -1;
  std::string status;
  int64_t steps = 0;
  int events = 0;
};

SubmitMeasure submit_once(const PluginApi &api, nat_trainer_adapter *adapter, TimingProxy &proxy,
                          int server_port, const std::string &data) {
  SubmitMeasure m;
  size_t seen = proxy.exchanges().size();
  double wall0 = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double c0 = thread_cpu_seconds();
  auto t0 = Clock::now();
  nat_trainer_adapter_buffer *ref_buf = nullptr;
  api.check(api.submit(adapter, data.data(), data.size(), &ref_buf), "submit");
  auto t_submit = Clock::now();
  m.submit_cpu_s = thread_cpu_seconds() - c0;
  std::string ref = api.take(ref_buf);
  m.submit_s = seconds_between(t0, t_submit);

  std::atomic<bool> failed{false};
  std::string wait_status;
  std::thread events([&] {
    for (;;) {
      nat_trainer_adapter_buffer *ev = nullptr;
      nat_trainer_adapter_error *err = api.next_event(adapter, ref.data(), ref.size(), -1.0, &ev);
      auto t = Clock::now();
      if (err) {
        api.error_free(err);
        failed = true;
        return;
      }
      if (!ev) return;
      nlohmann::json e = nlohmann::json::parse(api.take(ev));
      ++m.events;
      std::string type = e.value("type", "");
      if (type == "started") m.started_event_s = seconds_between(t0, t);
      if (type == "step" && m.first_step_s < 0) m.first_step_s = seconds_between(t0, t);
      if (e.value("final", false)) {
        m.final_event_s = seconds_between(t0, t);
        return;
      }
    }
  });
  std::thread waiter([&] {
    nat_trainer_adapter_buffer *st = nullptr;
    nat_trainer_adapter_error *err = api.wait_until_complete(adapter, ref.data(), ref.size(), 10.0, 0.0, &st);
    auto t = Clock::now();
    if (err) {
      api.error_free(err);
      failed = true;
      return;
    }
    m.wait_return_s = seconds_between(t0, t);
    wait_status = api.take(st);
  });
  waiter.join();
  events.join();
  if (failed) throw BenchError("next_event or wait_until_complete failed");

  nlohmann::json status = nlohmann::json::parse(wait_status);
  m.status = status.value("status", "?");
  const nlohmann::json &md = status.contains("metadata") ? status["metadata"] : nlohmann::json::object();
  m.metadata_body_bytes = md.value("body_bytes", uint64_t{0});
  m.metadata_upload_first_byte_s = md.value("upload_first_byte_s", -1.0);
  m.steps = md.value("gradient_steps_done", int64_t{0});

  auto rel = [&](HttpExchange::TimePoint t) {
    return t == HttpExchange::TimePoint{} ? -1.0 : seconds_between(t0, t);
  };
  auto ex = proxy.exchanges();
  for (size_t i = seen; i < ex.size(); ++i) {
    if (ex[i].target.rfind("/_train_model", 0) != 0) continue;
    m.req_headers_s = rel(ex[i].request_headers_end);
    m.body_first_s = rel(ex[i].request_body_first);
    m.body_last_s = rel(ex[i].request_body_last);
    m.resp_start_s = rel(ex[i].response_start);
    m.resp_first_line_s = rel(ex[i].response_body_first);
    m.resp_end_s = rel(ex[i].response_end);
    m.proxy_body_bytes = ex[i].request_body_bytes;
  }
  try {
    nlohmann::json rec = nlohmann::json::parse(http_get("http://127.0.0.1:" + std::to_string(server_port) +
                                                        "/_test/requests?path=/_train_model&body=0"));
    if (rec.is_array() && !rec.empty()) {
      const auto &last = rec.back();
      m.server_body_size = last.value("body_size", uint64_t{0});
      m.server_request_s = last.value("time", 0.0) - wall0;
    }
  } catch (const std::exception &) {
  }
  return m;
}

}  // namespace

void run_server(const Options &o, const std::vector<Input> &inputs, const std::string &work) {
  std::string script = o.source_root + "/tests/art_server/server.py";
  if (::access(o.art_python.c_str(), X_OK) != 0) {
    out("  skipped: %s is missing (tools/setup-venvs.sh creates it)\n", o.art_python.c_str());
    return;
  }
  const Input *big = nullptr;
  const Input *small = nullptr;
  for (const auto &in : inputs) {
    if (o.server_input == "ref"
            ? in.reference
            : (!in.reference && std::fabs(in.target_mb - std::atof(o.server_input.c_str())) < 1e-9))
      big = &in;
    if (!small && !in.reference) small = &in;
  }
  if (!big) big = &inputs.back();
  if (!small) small = &inputs.front();

  std::string data_dir = work + "/art-data";
  fs::create_directories(data_dir);
  auto ts = Clock::now();
  ArtServer server(o.art_python, script, data_dir);
  double start_s = seconds_since(ts);
  TimingProxy proxy(server.control_port());
  out("  reference server: openpipe-art %s (dialect 0.4), ready in %.1f s; timing proxy on port %d\n",
      server.version().c_str(), start_s, proxy.port());

  PluginApi api = PluginApi::load(o.art_plugin);
  std::string config =
      "{\"_type\":\"openpipe_art_trainer_adapter\",\"backend\":{\"ip\":\"127.0.0.1\",\"port\":" +
      std::to_string(proxy.port()) + ",\"name\":\"bench\",\"project\":\"nat-bench\"}}";
  nat_trainer_adapter *adapter = nullptr;
  api.check(api.create(config.data(), config.size(), &adapter), "create");
  auto ti = Clock::now();
  api.check(api.initialize(adapter, "{}", 2), "initialize");
  out("  initialize (healthcheck, /openapi.json, /register, /_prepare_backend_for_training, /_get_step): "
      "%s\n",
      ms(seconds_since(ti)).c_str());

  out("  submitting the %s input (%s) ...\n", big->name.c_str(),
      format_bytes(static_cast<double>(big->data.size())).c_str());
  SubmitMeasure m = submit_once(api, adapter, proxy, server.control_port(), big->data);
  uint64_t body = m.proxy_body_bytes;
  out("\n  submit of the %s collection; times from the start of submit():\n", big->name.c_str());
  out("  %-62s %12s\n", "submit() returned (validation; conversion then streams)", ms(m.submit_s).c_str());
  out("  %-62s %12s\n", "  of which CPU time of the calling thread", ms(m.submit_cpu_s).c_str());
  out("  %-62s %12s\n", "server: request recorded (its own clock, request start)",
      m.server_request_s >= 0 ? ms(m.server_request_s).c_str() : "n/a");
  out("  %-62s %12s\n", "proxy: /_train_model headers forwarded to the server", ms(m.req_headers_s).c_str());
  out("  %-62s %12s\n", "proxy: first body byte forwarded to the server (TTFB)", ms(m.body_first_s).c_str());
  out("  %-62s %12s\n", "proxy: last body byte forwarded to the server (TTLB)", ms(m.body_last_s).c_str());
  out("  %-62s %12s\n", "  upload rate first..last byte",
      fmt("%.0f MB/s", mbps(body, m.body_last_s - m.body_first_s)).c_str());
  out("  %-62s %12s\n", "  adapter's own upload_first_byte_s (metadata, from its request)",
      m.metadata_upload_first_byte_s >= 0 ? ms(m.metadata_upload_first_byte_s).c_str() : "n/a");
  out("  %-62s %12s\n", "server: response status line (after it read the whole body)",
      ms(m.resp_start_s).c_str());
  out("  %-62s %12s\n", "server: first NDJSON line", ms(m.resp_first_line_s).c_str());
  out("  %-62s %12s\n", "server: response end (final chunk)", ms(m.resp_end_s).c_str());
  out("  %-62s %12s\n", "final event pulled with next_event (job terminal)", ms(m.final_event_s).c_str());
  out("  %-62s %12s\n", "wait_until_complete(poll_interval 10 s) returned", ms(m.wait_return_s).c_str());
  out("  %-62s %12s\n", "job status", m.status.c_str());
  out("  body bytes: proxy %llu, server record %llu, adapter metadata %llu; %lld gradient steps; %d events\n",
      static_cast<unsigned long long>(body), static_cast<unsigned long long>(m.server_body_size),
      static_cast<unsigned long long>(m.metadata_body_bytes), static_cast<long long>(m.steps), m.events);
  out("  (The server keeps no per-chunk times: first/last byte are measured at the proxy, when the\n"
      "   bytes were handed to the server's socket. The server reads the whole body before it answers.)\n");

  add_target("submit " + big->name + ": submit() returns",
             fmt("%.0f ms (CPU %.0f ms)", m.submit_s * 1e3, m.submit_cpu_s * 1e3), "(info)", std::nullopt);
  add_target("submit " + big->name + ": first / last body byte at server",
             fmt("%.0f / %.0f ms", m.body_first_s * 1e3, m.body_last_s * 1e3), "(info)", std::nullopt);
  add_target("submit " + big->name + ": job completed", fmt("%.1f s (%s)", m.final_event_s, m.status.c_str()),
             "(info)", m.status == "completed" ? std::optional<bool>() : std::optional<bool>(false));

  // 5. wait latency after the job ends: the big submit plus small ones.
  std::vector<double> lat = {m.wait_return_s - m.final_event_s};
  std::vector<double> after_stream = {m.wait_return_s - m.resp_end_s};
  out("\n  wait_until_complete latency, %d more submits of the %s input:\n", o.wait_repeats,
      small->name.c_str());
  for (int i = 0; i < o.wait_repeats; ++i) {
    SubmitMeasure s = submit_once(api, adapter, proxy, server.control_port(), small->data);
    lat.push_back(s.wait_return_s - s.final_event_s);
    after_stream.push_back(s.wait_return_s - s.resp_end_s);
    out("    #%d %-9s final event %8.1f ms, wait returned %8.1f ms: latency %+.2f ms; %.1f ms after the "
        "stream's end\n",
        i + 1, s.status.c_str(), s.final_event_s * 1e3, s.wait_return_s * 1e3,
        (s.wait_return_s - s.final_event_s) * 1e3, (s.wait_return_s - s.resp_end_s) * 1e3);
  }
  double med = median(lat);
  out("  latency (wait return - final event), median of %zu: %+.2f ms (max %+.2f ms); after the stream's "
      "last\n"
      "  byte (includes the adapter's /_get_step after the stream): median %.1f ms\n",
      lat.size(), med * 1e3, maximum(lat) * 1e3, median(after_stream) * 1e3);
  add_target("wait_until_complete latency after job end (poll 10 s)",
             fmt("%.2f ms (max %.2f)", med * 1e3, maximum(lat) * 1e3), "< 50 ms", med < 0.050);
  api.destroy(adapter);
}

}  // namespace nat::bench
