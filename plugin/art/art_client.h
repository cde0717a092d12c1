// The ART `art run` HTTP protocol: routes, bodies and replies of dialects
// 0.4.x and 0.5.x, with finite timeouts on unary calls and retries with
// backoff where a route is idempotent (/healthcheck, /openapi.json,
// /register, /_get_step). /_train_model is never retried.
//
// Reply bodies are read by art/replies.h (depth- and size-limited, secrets
// masked before anything is cut).
//
// Timeouts: a request to the server that runs out of time (connect or whole
// request) is reported like any other failure to reach it, as
// ErrorCode::Unavailable ("... failed: Operation timed out ..."), on every
// route. DEADLINE_EXCEEDED is reserved for the caller's own waits
// (wait_until_complete's timeout_s).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "art/art_options.h"
#include "art/replies.h"
#include "base/secret_redactor.h"
#include "http/http_client.h"

namespace nat::art {

// The HTTP layer under the ART protocol (http/http_client.h).
using http::BodyReader;
using http::ensure_curl_initialized;
using http::HttpClient;
using http::HttpResponse;
using http::RequestOptions;
using http::StreamOptions;
using http::StreamResult;
using http::TlsOptions;
using http::TransportError;

// Inference endpoint learned from /_prepare_backend_for_training.
struct InferenceEndpoint {
  std::string base_url;  // host rewritten to the configured ip
  std::string api_key;
  std::string model_name;
};

// The model object of a dialect, as /register and every model-bearing route take it.
nlohmann::json model_body(const ModelSpec &model, Dialect dialect, const InferenceEndpoint *inference);

// Replaces the host of `url` with `host` (ART returns its bind address,
// 0.0.0.0). The URL is parsed by libcurl's URL parser (the one that later
// reads it for the request), so the host replaced is the host a request
// would go to. Throws nat::Error(Unavailable) with the reason (never quoting
// the URL) when it is not an http or https URL with a host, when it carries
// user-info (`user:password@`, which would let the server pick another host
// behind an innocent-looking prefix), or when libcurl cannot be loaded.
std::string rewrite_url_host(const std::string &url, const std::string &host);

class ArtClient {
 public:
  // `secrets` masks keys in quoted server replies; it must outlive the client.
  ArtClient(ClientOptions options, const SecretRedactor &secrets);

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
  bool probe_inference(const std::string &inference_base_url, const std::string &api_key,
                       std::string *why) const;
  bool probe_control(std::string *why) const;
  // Both probes at once, so the whole check takes at most one
  // native.health_timeout_s.
  bool probe_both(const std::string &inference_base_url, const std::string &api_key) const;

  StreamResult train(BodyReader &body, const std::function<void(std::string_view)> &on_line,
                     const std::atomic<bool> *cancel) const;

 private:
  // Connect timeout, `timeout_s` for the whole request, the reply size limit.
  RequestOptions request_options(double timeout_s) const;
  // The probes': the health timeout for connecting and for the whole request.
  RequestOptions probe_options() const;
  // Calls `request` up to `attempts` times, sleeping the backoff (doubled each
  // time) between them, while it throws a TransportError that a retry may
  // cure or returns a reply for which `retry` is true. The last reply is
  // returned; the last transport failure is thrown as
  // Error(Unavailable, "<what> failed: ...").
  HttpResponse with_retries(const std::string &what, int attempts,
                            const std::function<HttpResponse()> &request,
                            const std::function<bool(const HttpResponse &)> &retry) const;
  HttpResponse post_with_retries(const std::string &route, const std::string &body, double timeout_s,
                                 int attempts) const;
  [[noreturn]] void fail_http(const std::string &what, const HttpResponse &r) const;

  ClientOptions options_;
  const SecretRedactor &secrets_;
  HttpClient http_;
  std::string base_url_;
};

}  // namespace nat::art
