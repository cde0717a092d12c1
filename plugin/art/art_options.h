// What the ART client needs to know, apart from the adapter's configuration:
// the server's dialect, where the server is, how long to wait, how often to
// retry and how much to read (ClientOptions), and what the model object names
// (ModelSpec). adapter/ builds both from the AdapterConfig.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace nat {

enum class Dialect {
  Auto,  // detected from the server's /openapi.json at initialize
  V04,   // ART 0.3.x-0.4.x (NAT pins openpipe-art[backend]==0.4.11 for its server)
  V05,   // ART 0.5.x
};

inline const char *dialect_name(Dialect dialect) {
  switch (dialect) {
    case Dialect::Auto:
      return "auto";
    case Dialect::V04:
      return "0.4";
    case Dialect::V05:
      return "0.5";
  }
  return "auto";
}

namespace art {

struct ClientOptions {
  std::string scheme = "http";  // "https" for a TLS-terminating proxy in front of the server
  std::string host;             // a host name, IPv4 or IPv6 address (bare or in brackets)
  int port = 0;
  std::string inference_base_url;  // overrides the URL /_prepare_backend_for_training returns
  double connect_timeout_s = 10.0;
  double request_timeout_s = 60.0;  // /register, /healthcheck, /openapi.json, deletion
  double get_step_timeout_s = 30.0;
  double prepare_timeout_s = 1200.0;
  double health_timeout_s = 5.0;          // the probes' connect and whole-request timeout
  int retries = 3;                        // extra attempts of idempotent calls
  double retry_backoff_s = 0.5;           // first backoff, doubled per attempt
  double keepalive_idle_s = 30.0;         // TCP keepalive on the training stream
  size_t max_response_bytes = 16u << 20;  // also the training stream's line limit
  std::string ca_path;
  bool insecure_skip_tls_verify = false;
};

// The names and arguments of the model object every model-bearing route takes.
struct ModelSpec {
  std::string name;
  std::string project;
  std::string base_model;
  nlohmann::json init_args;     // object or null (left out when null)
  nlohmann::json engine_args;   // object or null
  nlohmann::json trainer_args;  // object or null
};

}  // namespace art
}  // namespace nat
