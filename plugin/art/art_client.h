// The ART `art run` HTTP protocol: routes, bodies and replies of dialects
// 0.4.x and 0.5.x, with finite timeouts on unary calls and retries with
// backoff where a route is idempotent (/healthcheck, /openapi.json,
// /register, /_get_step). /_train_model is never retried.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "art/http_client.h"
#include "config/adapter_config.h"

namespace nat::art {

// What the server's /openapi.json says about it.
struct ServerDialect {
  Dialect dialect = Dialect::V04;
  std::string beta_field = "beta";  // the TrainConfig field of the KL coefficient
  bool has_train_model = true;
  bool detected = false;            // false: /openapi.json was unavailable, defaults assumed
  std::string note;
};

// Inference endpoint learned from /_prepare_backend_for_training.
struct InferenceEndpoint {
  std::string base_url;  // host rewritten to the configured ip
  std::string api_key;
  std::string model_name;
};

// The model object of a dialect, as /register and every model-bearing route take it.
nlohmann::json model_body(const AdapterConfig &config, Dialect dialect, const InferenceEndpoint *inference);

// Replaces the host of `url` with `host` (ART returns its bind address, 0.0.0.0).
std::string rewrite_url_host(const std::string &url, const std::string &host);

// Detail of an error reply ({"detail": ...} when present), shortened.
std::string error_detail(const HttpResponse &response);

class ArtClient {
 public:
  explicit ArtClient(const AdapterConfig &config);

  const std::string &base_url() const { return base_url_; }

  void healthcheck(int attempts) const;
  ServerDialect detect_dialect() const;
  void register_model(const std::string &model_json) const;
  InferenceEndpoint prepare_backend(const std::string &model_json, const nlohmann::json &server_config) const;
  int64_t get_step(const std::string &model_json) const;
  // ART 0.4: /_delete_checkpoints (keeps the latest and the best by val/reward);
  // ART 0.5: /_delete_checkpoint_files keeping `keep_step`.
  void delete_checkpoints(Dialect dialect, const std::string &model_json, int64_t keep_step) const;
  // True when anything answers HTTP at `<inference_base_url>/models`.
  bool probe_inference(const std::string &inference_base_url, const std::string &api_key, std::string *why) const;
  bool probe_control(std::string *why) const;

  StreamResult train(BodyReader &body, const std::function<void(std::string_view)> &on_line,
                     const std::atomic<bool> *cancel) const;

 private:
  HttpResponse post_with_retries(const std::string &route, const std::string &body, double timeout_s,
                                 int attempts) const;
  [[noreturn]] void fail_http(const std::string &what, const HttpResponse &r) const;

  const AdapterConfig &config_;
  HttpClient http_;
  std::string base_url_;
};

}  // namespace nat::art
