#include "art/art_client.h"

#include <curl/curl.h>

#include <chrono>
#include <thread>

#include "adapter/error.h"
#include "json/small_json.h"

namespace nat::art {

namespace {

bool retryable_status(long status) { return status == 429 || status == 502 || status == 503 || status == 504; }

// Transport failures that no retry can cure: libcurl missing (FAILED_INIT),
// a URL or protocol libcurl refuses, a certificate that does not verify or a
// CA file that cannot be read. Retrying them only delays the error.
bool permanent(const TransportError &e) {
  switch (e.curl_code()) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_FAILED_INIT:
    case CURLE_URL_MALFORMAT:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return true;
    default:
      return false;
  }
}

std::string host_for_url(const std::string &host) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

void drop_nulls(nlohmann::json &obj) {
  for (auto it = obj.begin(); it != obj.end();) {
    if (it->is_null()) it = obj.erase(it); else ++it;
  }
}

}  // namespace

nlohmann::json model_body(const AdapterConfig &config, Dialect dialect, const InferenceEndpoint *inference) {
  using nlohmann::json;
  const BackendConfig &b = config.backend;
  json internal = {{"init_args", b.init_args}, {"engine_args", b.engine_args}, {"trainer_args", config.training}};
  drop_nulls(internal);
  json m = json::object();
  m["name"] = b.name;
  m["project"] = b.project;
  if (dialect == Dialect::V05) {
    m["entity"] = nullptr;
    m["id"] = nullptr;
  }
  m["config"] = nullptr;
  if (dialect == Dialect::V05) m["trainable"] = true;
  m["inference_api_key"] = inference ? json(inference->api_key) : json();
  m["inference_base_url"] = inference ? json(inference->base_url) : json();
  m["inference_model_name"] = inference && !inference->model_name.empty() ? json(inference->model_name) : json();
  if (dialect == Dialect::V05) {
    m["base_path"] = ".art";
    m["report_metrics"] = nullptr;
  }
  m["base_model"] = b.base_model;
  m["_internal_config"] = internal;
  return m;
}

std::string rewrite_url_host(const std::string &url, const std::string &host) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  size_t host_begin = scheme_end + 3;
  size_t host_end;
  if (host_begin < url.size() && url[host_begin] == '[') {
    host_end = url.find(']', host_begin);
    if (host_end == std::string::npos) return url;
    ++host_end;
  } else {
    host_end = url.find_first_of(":/", host_begin);
    if (host_end == std::string::npos) host_end = url.size();
  }
  return url.substr(0, host_begin) + host_for_url(host) + url.substr(host_end);
}

std::string error_detail(const HttpResponse &r) {
  std::string detail;
  try {
    auto j = nlohmann::json::parse(r.body);
    if (j.is_object() && j.contains("detail"))
      detail = j["detail"].is_string() ? j["detail"].get<std::string>() : json::dump(j["detail"]);
  } catch (...) {
  }
  if (detail.empty()) detail = r.body;
  if (detail.size() > 2000) detail = detail.substr(0, 2000) + "...";
  return detail;
}

ArtClient::ArtClient(const AdapterConfig &config)
    : config_(config),
      http_(TlsOptions{config.native.ca_path, config.native.insecure_skip_tls_verify}),
      base_url_(config.native.scheme + "://" + host_for_url(config.backend.ip) + ":" +
                std::to_string(config.backend.port)) {}

void ArtClient::fail_http(const std::string &what, const HttpResponse &r) const {
  throw Error(ErrorCode::Unavailable, what + " returned HTTP " + std::to_string(r.status) + ": " + error_detail(r));
}

HttpResponse ArtClient::post_with_retries(const std::string &route, const std::string &body, double timeout_s,
                                          int attempts) const {
  RequestOptions o;
  o.connect_timeout_s = config_.native.connect_timeout_s;
  o.timeout_s = timeout_s;
  o.max_response_bytes = config_.native.max_response_bytes;
  double backoff = config_.native.retry_backoff_s;
  for (int attempt = 1;; ++attempt) {
    try {
      HttpResponse r = http_.post_json(base_url_ + route, body, o);
      if (attempt < attempts && (r.status >= 500 || retryable_status(r.status))) {
        // 5xx on an idempotent route: the server may be booting; try again.
      } else {
        return r;
      }
    } catch (const TransportError &e) {
      if (attempt >= attempts || permanent(e))
        throw Error(e.timed_out() ? ErrorCode::DeadlineExceeded : ErrorCode::Unavailable,
                    "POST " + route + " failed: " + e.what());
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff *= 2;
  }
}

void ArtClient::healthcheck(int attempts) const {
  RequestOptions o;
  o.connect_timeout_s = config_.native.connect_timeout_s;
  o.timeout_s = config_.native.request_timeout_s;
  o.max_response_bytes = config_.native.max_response_bytes;
  double backoff = config_.native.retry_backoff_s;
  for (int attempt = 1;; ++attempt) {
    try {
      HttpResponse r = http_.get(base_url_ + "/healthcheck", o);
      if (r.status == 200) return;
      if (attempt >= attempts) fail_http("GET /healthcheck", r);
    } catch (const TransportError &e) {
      if (attempt >= attempts || permanent(e))
        throw Error(ErrorCode::Unavailable, std::string("GET /healthcheck failed: ") + e.what());
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff *= 2;
  }
}

ServerDialect ArtClient::detect_dialect() const {
  ServerDialect d;
  RequestOptions o;
  o.connect_timeout_s = config_.native.connect_timeout_s;
  o.timeout_s = config_.native.request_timeout_s;
  o.max_response_bytes = config_.native.max_response_bytes;
  HttpResponse r;
  try {
    r = http_.get(base_url_ + "/openapi.json", o);
  } catch (const TransportError &e) {
    throw Error(ErrorCode::Unavailable, std::string("GET /openapi.json failed: ") + e.what());
  }
  if (r.status != 200) {
    d.note = "GET /openapi.json returned HTTP " + std::to_string(r.status) + "; assuming ART 0.4.x";
    return d;
  }
  nlohmann::json spec;
  try {
    spec = json::parse_checked(r.body, "/openapi.json", 256);
  } catch (const Error &e) {
    d.note = std::string("unreadable /openapi.json (") + e.what() + "); assuming ART 0.4.x";
    return d;
  }
  const nlohmann::json *paths = spec.is_object() && spec.contains("paths") ? &spec["paths"] : nullptr;
  auto has = [&](const char *route) { return paths && paths->is_object() && paths->contains(route); };
  d.detected = true;
  d.has_train_model = has("/_train_model");
  if (has("/_delete_checkpoint_files") || (!has("/_log") && !has("/_delete_checkpoints"))) {
    d.dialect = Dialect::V05;
  } else {
    d.dialect = Dialect::V04;
  }
  // Newer ART renamed TrainConfig.beta to kl_penalty_coef; the schema says which.
  d.beta_field = d.dialect == Dialect::V05 ? "kl_penalty_coef" : "beta";
  try {
    const auto &props = spec.at("components").at("schemas").at("TrainConfig").at("properties");
    if (props.contains("beta")) d.beta_field = "beta";
    else if (props.contains("kl_penalty_coef")) d.beta_field = "kl_penalty_coef";
  } catch (...) {
  }
  return d;
}

void ArtClient::register_model(const std::string &model_json) const {
  HttpResponse r = post_with_retries("/register", model_json, config_.native.request_timeout_s, 1 + config_.native.retries);
  if (r.status < 200 || r.status >= 300) fail_http("POST /register", r);
}

InferenceEndpoint ArtClient::prepare_backend(const std::string &model_json, const nlohmann::json &server_config) const {
  std::string body = "{\"model\":" + model_json + ",\"config\":" + json::dump(server_config) + "}";
  // Not retried: each call restarts the server's vLLM.
  HttpResponse r = post_with_retries("/_prepare_backend_for_training", body, config_.native.prepare_timeout_s, 1);
  if (r.status < 200 || r.status >= 300) fail_http("POST /_prepare_backend_for_training", r);
  nlohmann::json reply;
  try {
    reply = nlohmann::json::parse(r.body);
  } catch (const std::exception &) {
    throw Error(ErrorCode::Unavailable, "POST /_prepare_backend_for_training: expected [base_url, api_key], got " + r.body.substr(0, 200));
  }
  if (!reply.is_array() || reply.size() != 2 || !reply[0].is_string() || !reply[1].is_string())
    throw Error(ErrorCode::Unavailable, "POST /_prepare_backend_for_training: expected [base_url, api_key], got " + json::dump(reply).substr(0, 200));
  InferenceEndpoint ep;
  ep.base_url = config_.native.inference_base_url.empty() ? rewrite_url_host(reply[0].get<std::string>(), config_.backend.ip)
                                                          : config_.native.inference_base_url;
  while (!ep.base_url.empty() && ep.base_url.back() == '/') ep.base_url.pop_back();
  ep.api_key = reply[1].get<std::string>();
  return ep;
}

int64_t ArtClient::get_step(const std::string &model_json) const {
  HttpResponse r = post_with_retries("/_get_step", model_json, config_.native.get_step_timeout_s, 1 + config_.native.retries);
  if (r.status != 200) fail_http("POST /_get_step", r);
  try {
    auto j = nlohmann::json::parse(r.body);
    if (j.is_number_integer()) return j.get<int64_t>();
  } catch (...) {
  }
  throw Error(ErrorCode::Unavailable, "POST /_get_step: expected an integer, got " + r.body.substr(0, 200));
}

void ArtClient::delete_checkpoints(Dialect dialect, const std::string &model_json, int64_t keep_step) const {
  HttpResponse r;
  if (dialect == Dialect::V05) {
    std::string body = "{\"model\":" + model_json + ",\"steps_to_keep\":[" + std::to_string(keep_step) + "]}";
    r = post_with_retries("/_delete_checkpoint_files", body, config_.native.request_timeout_s, 1);
    if (r.status < 200 || r.status >= 300) fail_http("POST /_delete_checkpoint_files", r);
  } else {
    r = post_with_retries("/_delete_checkpoints?benchmark=val%2Freward&benchmark_smoothing=1.0", model_json,
                          config_.native.request_timeout_s, 1);
    if (r.status < 200 || r.status >= 300) fail_http("POST /_delete_checkpoints", r);
  }
}

bool ArtClient::probe_inference(const std::string &inference_base_url, const std::string &api_key, std::string *why) const {
  RequestOptions o;
  o.connect_timeout_s = config_.native.health_timeout_s;
  o.timeout_s = config_.native.health_timeout_s;
  o.max_response_bytes = config_.native.max_response_bytes;
  o.headers.push_back("Authorization: Bearer " + api_key);
  try {
    http_.get(inference_base_url + "/models", o);  // any HTTP answer counts, as in NAT
    return true;
  } catch (const TransportError &e) {
    if (why) *why = std::string("inference server: ") + e.what();
    return false;
  }
}

bool ArtClient::probe_control(std::string *why) const {
  RequestOptions o;
  o.connect_timeout_s = config_.native.health_timeout_s;
  o.timeout_s = config_.native.health_timeout_s;
  o.max_response_bytes = config_.native.max_response_bytes;
  try {
    HttpResponse r = http_.get(base_url_ + "/healthcheck", o);
    if (r.status == 200) return true;
    if (why) *why = "control server: GET /healthcheck returned HTTP " + std::to_string(r.status);
    return false;
  } catch (const TransportError &e) {
    if (why) *why = std::string("control server: ") + e.what();
    return false;
  }
}

StreamResult ArtClient::train(BodyReader &body, const std::function<void(std::string_view)> &on_line,
                              const std::atomic<bool> *cancel) const {
  StreamOptions o;
  o.connect_timeout_s = config_.native.connect_timeout_s;
  o.keepalive_idle_s = config_.native.keepalive_idle_s;
  o.max_line_bytes = config_.native.max_response_bytes;
  o.cancel = cancel;
  return http_.post_streaming(base_url_ + "/_train_model", body, on_line, o);
}

}  // namespace nat::art
