// The adapter's configuration: NAT's ARTTrainerAdapterConfig (same keys, same
// defaults) plus the options of this implementation under "native".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "art/art_options.h"
#include "jobs/spool.h"
#include "nat/collection_plan.h"

namespace nat {

struct BackendConfig {
  std::string ip;
  int port = 0;
  std::string name = "trainer_run";
  std::string project = "trainer_project";
  std::string base_model = "Qwen/Qwen2.5-7B-Instruct";
  std::string api_key = "default";
  bool delete_old_checkpoints = false;
  nlohmann::json init_args;      // object or null
  nlohmann::json engine_args;    // object or null
  nlohmann::json server_config;  // object or null
};

struct NativeOptions {
  // Ranges of the numeric options; parse_adapter_config refuses a value
  // outside them (before any conversion to an integer type), naming the option
  // and the range. The JSON Schema (adapter_config_schema) states the same.
  static constexpr double kMinTimeoutS = 0.001;  // every *_timeout_s
  static constexpr double kMaxTimeoutS = 1e6;    // about 11.6 days
  static constexpr int kMaxRetries = 20;
  static constexpr double kMaxRetryBackoffS = 3600;    // doubled per attempt: at most 2^19 h
  static constexpr double kMaxKeepaliveIdleS = 32767;  // Linux's TCP_KEEPIDLE maximum
  static constexpr int kMinJsonDepth = 2;
  static constexpr int kMaxJsonDepth = 1000;
  static constexpr long long kMinResponseBytes = 1024;
  static constexpr long long kMaxResponseBytes = 1ll << 30;  // 1 GiB; also the training stream's line limit

  ValidationMode validation = ValidationMode::Compat;
  Dialect dialect = Dialect::Auto;
  std::string scheme = "http";     // "https" for a TLS-terminating proxy in front of the server
  std::string inference_base_url;  // overrides the URL /_prepare_backend_for_training returns
  double connect_timeout_s = 10.0;
  double request_timeout_s = 60.0;  // /register, /healthcheck, /openapi.json, deletion
  double get_step_timeout_s = 30.0;
  double prepare_timeout_s = 1200.0;  // /_prepare_backend_for_training can take minutes
  double health_timeout_s = 5.0;      // is_healthy's probes
  int retries = 3;                    // extra attempts of idempotent calls
  double retry_backoff_s = 0.5;       // first backoff, doubled per attempt
  double keepalive_idle_s = 30.0;     // TCP keepalive on the training stream
  int max_json_depth = 128;
  size_t max_response_bytes = 16u << 20;
  std::string ca_path;
  bool insecure_skip_tls_verify = false;
  // The libcurl file to load instead of the search; "" searches
  // (http/curl_library.h: choose_libcurl).
  std::string libcurl_path;
  bool spool = true;  // write each submitted collection to spool_dir first
  std::string spool_dir = kDefaultSpoolDir;
};

struct AdapterConfig {
  std::string type;  // "_type" (or "type"), empty when absent
  BackendConfig backend;
  nlohmann::json training;  // NAT's `training` dict or null
  nlohmann::json reward;    // NAT's reward config or null
  NativeOptions native;

  // What the per-call TrainConfig carries: training.learning_rate and
  // training.beta, defaulting to NAT's 5e-5 and 0.
  double learning_rate() const;
  double beta() const;
};

// Parses and checks the config JSON. Throws nat::Error(InvalidArgument)
// naming the offending key. `expected_type` is the plugin's NAT _type; a
// different _type in the config is refused.
AdapterConfig parse_adapter_config(std::string_view json_text, std::string_view expected_type);

// Checks shared by the plugins' config parsers. Each throws
// nat::Error(InvalidArgument) "config: <key>: ..." naming the key, never
// quoting the value (it may be a secret).
//
// A host as a URL takes it: a host name (RFC 1123, and "_"), an IPv4 address, or an
// IPv6 address (in brackets, or bare: the URL gets the brackets). Nothing
// else: no port, path, query, fragment, user info, space or control byte.
void check_backend_host(const std::string &host, const std::string &key);
// Offset of the first C0 control character or DEL, or npos.
size_t first_control_character(std::string_view value);
// Refuses CR, LF, NUL, every other C0 control and DEL in a value that goes
// into an HTTP header or a URL; `because` ends the message ("is a URL").
void refuse_control_characters(const std::string &value, const std::string &key, const char *because);
// Refuses a NUL byte in a path.
void refuse_nul(const std::string &value, const std::string &key);
// Refuses a key repeated within one object, at any depth, naming its path
// ("config: backend.ip: duplicate key"). The text must have passed
// json::parse_checked.
void refuse_duplicate_keys(std::string_view validated_json);

// JSON Schema of the accepted config.
const char *adapter_config_schema();

}  // namespace nat
