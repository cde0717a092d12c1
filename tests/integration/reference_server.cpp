#include "reference_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include "child_server.h"

namespace nat::testing {

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

namespace {

size_t collect(char *p, size_t s, size_t n, void *ud) {
  static_cast<std::string *>(ud)->append(p, s * n);
  return s * n;
}

std::string env_or(const char *name, const std::string &fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

}  // namespace

HttpReply http_request(const std::string &method, const std::string &url, const std::string &body) {
  CURL *c = curl_easy_init();
  HttpReply r;
  curl_slist *h = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("HTTP ") + method + " " + url + ": " + curl_easy_strerror(rc));
  return r;
}

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

ReferenceServer::ReferenceServer(std::string dialect) : dialect_(std::move(dialect)) {
  std::string root = env_or("NAT_SOURCE_ROOT", ".");
  python_ = env_or(dialect_ == "0.5" ? "ART_PYTHON_05" : "ART_PYTHON_04",
                   root + "/.venv/art-" + dialect_ + "/bin/python");
  script_ = env_or("ART_SERVER_SCRIPT", root + "/tests/art_server/server.py");
  char tmpl[] = "/tmp/nat-art-server-XXXXXX";
  char *dir = ::mkdtemp(tmpl);
  if (!dir) throw std::runtime_error("mkdtemp failed");
  data_dir_ = dir;
}

ReferenceServer::~ReferenceServer() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
}

bool ReferenceServer::available(std::string *why) const {
  if (::access(python_.c_str(), X_OK) != 0) {
    *why = "the ART " + dialect_ + " reference server environment is missing (" + python_ +
           "); run tools/setup-venvs.sh";
    return false;
  }
  if (::access(script_.c_str(), R_OK) != 0) {
    *why = "reference server script missing: " + script_;
    return false;
  }
  return true;
}

void ReferenceServer::start(const nlohmann::json &faults) {
  std::string cport = control_port_ ? std::to_string(control_port_) : "0";
  std::string iport = inference_port_ ? std::to_string(inference_port_) : "0";
  std::vector<std::string> args = {python_,      script_,   "--dialect",        dialect_,
                                   "--port",     cport,     "--inference-port", iport,
                                   "--data-dir", data_dir_, "--log-file",       data_dir_ + "/server.log"};
  if (!faults.is_null()) {
    args.push_back("--faults");
    args.push_back(faults.dump());
  }
  try {
    child_ = std::make_unique<ChildServer>(std::move(args));
  } catch (const std::exception &e) {
    throw std::runtime_error(std::string("the reference server: ") + e.what() + "; see " + data_dir_ +
                             "/server.log");
  }
  control_port_ = child_->ready().at("control_port").get<int>();
  inference_port_ = child_->ready().at("inference_port").get<int>();
}

void ReferenceServer::stop() { child_.reset(); }

void ReferenceServer::restart() {
  stop();
  start();
}

std::string ReferenceServer::url(const std::string &path) const {
  return "http://127.0.0.1:" + std::to_string(control_port_) + path;
}

void ReferenceServer::set_faults(const nlohmann::json &faults) {
  HttpReply r = http_request("POST", url("/_test/faults"), faults.dump());
  if (r.status != 200) throw std::runtime_error("setting faults failed: " + r.body);
}

nlohmann::json ReferenceServer::requests() const {
  HttpReply r = http_request("GET", url("/_test/requests"));
  return nlohmann::json::parse(r.body);
}

std::vector<nlohmann::json> ReferenceServer::requests_to(const std::string &path) const {
  std::vector<nlohmann::json> out;
  for (const auto &rq : requests()) {
    std::string p = rq.value("path", "");
    if (p == path) out.push_back(rq);
  }
  return out;
}

void ReferenceServer::reset() { http_request("POST", url("/_test/reset")); }

}  // namespace nat::testing
