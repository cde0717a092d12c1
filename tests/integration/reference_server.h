// Starts the ART reference server (tests/art_server/server.py) as a child
// process on free ports and talks to its test-only routes.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nat::testing {

class ChildServer;

struct HttpReply {
  long status = 0;
  std::string body;
};

HttpReply http_request(const std::string &method, const std::string &url, const std::string &body = "");

// The bytes of a file (empty when it cannot be read).
std::string read_file(const std::string &path);

class ReferenceServer {
 public:
  // dialect "0.4" or "0.5". Skips (returns false from start) when the
  // interpreter of that dialect's environment is missing.
  explicit ReferenceServer(std::string dialect);
  ~ReferenceServer();

  bool available(std::string *why) const;
  void start(const nlohmann::json &faults = nlohmann::json());
  void stop();
  void restart();

  int control_port() const { return control_port_; }
  int inference_port() const { return inference_port_; }
  const std::string &data_dir() const { return data_dir_; }
  std::string url(const std::string &path) const;

  void set_faults(const nlohmann::json &faults);
  nlohmann::json requests() const;  // the record of every request
  // Recorded requests to one path (query string ignored).
  std::vector<nlohmann::json> requests_to(const std::string &path) const;
  void reset();

 private:
  std::string dialect_;
  std::string python_;
  std::string script_;
  std::string data_dir_;
  std::unique_ptr<ChildServer> child_;
  int control_port_ = 0;
  int inference_port_ = 0;
};

// A TCP port on 127.0.0.1 with nothing listening.
int closed_port();

}  // namespace nat::testing
