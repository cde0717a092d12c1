#include "art/art_client.h"

#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "base/error.h"
#include "http/curl_library.h"
#include "json/small_json.h"

namespace nat::art {

namespace url_api = http::url_api;
using http::load_libcurl;

namespace {

bool retryable_status(long status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

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
    case CURLE_BAD_FUNCTION_ARGUMENT:  // a header value refused before sending
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
    if (it->is_null())
      it = obj.erase(it);
    else
      ++it;
  }
}

}  // namespace

nlohmann::json model_body(const ModelSpec &model, Dialect dialect, const InferenceEndpoint *inference) {
  using Json = nlohmann::json;
  Json internal = {{"init_args", model.init_args},
                   {"engine_args", model.engine_args},
                   {"trainer_args", model.trainer_args}};
  drop_nulls(internal);
  Json m = Json::object();
  m["name"] = model.name;
  m["project"] = model.project;
  if (dialect == Dialect::V05) {
    m["entity"] = nullptr;
    m["id"] = nullptr;
  }
  m["config"] = nullptr;
  if (dialect == Dialect::V05) m["trainable"] = true;
  m["inference_api_key"] = inference ? Json(inference->api_key) : Json();
  m["inference_base_url"] = inference ? Json(inference->base_url) : Json();
  m["inference_model_name"] =
      inference && !inference->model_name.empty() ? Json(inference->model_name) : Json();
  if (dialect == Dialect::V05) {
    m["base_path"] = ".art";
    m["report_metrics"] = nullptr;
  }
  m["base_model"] = model.base_model;
  m["_internal_config"] = internal;
  return m;
}

namespace {

struct UrlHandle {
  CURLU *url = url_api::create();
  ~UrlHandle() { url_api::cleanup(url); }
};

struct UrlPart {
  char *text = nullptr;
  ~UrlPart() { url_api::free_string(text); }
};

[[noreturn]] void refuse_url(const std::string &why) { throw Error(ErrorCode::Unavailable, why); }

}  // namespace

std::string rewrite_url_host(const std::string &url, const std::string &host) {
  if (control_char_at(url) != std::string::npos) refuse_url("the URL contains a control character");
  UrlHandle u;
  if (u.url == nullptr) {
    std::string why;
    load_libcurl(&why);
    refuse_url("the URL cannot be parsed: " + (why.empty() ? std::string("out of memory") : why));
  }
  if (url_api::set(u.url, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    refuse_url("the URL is malformed (an absolute http:// or https:// URL is expected)");
  UrlPart scheme;
  if (url_api::get(u.url, CURLUPART_SCHEME, &scheme.text, 0) != CURLUE_OK || scheme.text == nullptr ||
      (std::strcmp(scheme.text, "http") != 0 && std::strcmp(scheme.text, "https") != 0))
    refuse_url("the URL's scheme is not http or https");
  for (CURLUPart part : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS}) {
    UrlPart p;
    if (url_api::get(u.url, part, &p.text, 0) == CURLUE_OK && p.text != nullptr)
      refuse_url(
          "the URL has user-info (a user name or password before '@'); it is refused, as it can make the "
          "host look like another");
  }
  UrlPart old_host;
  if (url_api::get(u.url, CURLUPART_HOST, &old_host.text, 0) != CURLUE_OK || old_host.text == nullptr ||
      *old_host.text == '\0')
    refuse_url("the URL has no host");
  if (url_api::set(u.url, CURLUPART_HOST, host_for_url(host).c_str(), 0) != CURLUE_OK)
    refuse_url("the configured backend.ip cannot be a URL's host");
  // A fragment is never sent, and "/models" appended after one would not be
  // either.
  url_api::set(u.url, CURLUPART_FRAGMENT, nullptr, 0);
  UrlPart out;
  if (url_api::get(u.url, CURLUPART_URL, &out.text, 0) != CURLUE_OK || out.text == nullptr)
    refuse_url("the URL cannot be rebuilt with the configured host");
  return std::string(out.text);
}

ArtClient::ArtClient(ClientOptions options, const SecretRedactor &secrets)
    : options_(std::move(options)),
      secrets_(secrets),
      http_(TlsOptions{options_.ca_path, options_.insecure_skip_tls_verify}),
      base_url_(options_.scheme + "://" + host_for_url(options_.host) + ":" + std::to_string(options_.port)) {
}

void ArtClient::fail_http(const std::string &what, const HttpResponse &r) const {
  throw Error(ErrorCode::Unavailable, http_error_text(what, r.status, r.body, secrets_));
}

RequestOptions ArtClient::request_options(double timeout_s) const {
  RequestOptions o;
  o.connect_timeout_s = options_.connect_timeout_s;
  o.timeout_s = timeout_s;
  o.max_response_bytes = options_.max_response_bytes;
  return o;
}

RequestOptions ArtClient::probe_options() const {
  RequestOptions o = request_options(options_.health_timeout_s);
  o.connect_timeout_s = options_.health_timeout_s;
  return o;
}

HttpResponse ArtClient::with_retries(const std::string &what, int attempts,
                                     const std::function<HttpResponse()> &request,
                                     const std::function<bool(const HttpResponse &)> &retry) const {
  double backoff = options_.retry_backoff_s;
  for (int attempt = 1;; ++attempt) {
    try {
      HttpResponse r = request();
      if (attempt >= attempts || !retry(r)) return r;
    } catch (const TransportError &e) {
      // A timeout is UNAVAILABLE like any other failure to reach the server
      // (see art_client.h).
      if (attempt >= attempts || permanent(e))
        throw Error(ErrorCode::Unavailable, what + " failed: " + e.what());
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff *= 2;
  }
}

HttpResponse ArtClient::post_with_retries(const std::string &route, const std::string &body, double timeout_s,
                                          int attempts) const {
  const RequestOptions o = request_options(timeout_s);
  return with_retries(
      "POST " + route, attempts, [&] { return http_.post_json(base_url_ + route, body, o); },
      // 5xx on an idempotent route: the server may be booting; try again.
      [](const HttpResponse &r) { return r.status >= 500 || retryable_status(r.status); });
}

void ArtClient::healthcheck(int attempts) const {
  const RequestOptions o = request_options(options_.request_timeout_s);
  HttpResponse r = with_retries(
      "GET /healthcheck", attempts, [&] { return http_.get(base_url_ + "/healthcheck", o); },
      [](const HttpResponse &r) { return r.status != 200; });
  if (r.status != 200) fail_http("GET /healthcheck", r);
}

ServerDialect ArtClient::detect_dialect() const {
  const RequestOptions o = request_options(options_.request_timeout_s);
  HttpResponse r;
  try {
    r = http_.get(base_url_ + "/openapi.json", o);
  } catch (const TransportError &e) {
    throw Error(ErrorCode::Unavailable, std::string("GET /openapi.json failed: ") + e.what());
  }
  if (r.status != 200) {
    ServerDialect d;
    d.note = "GET /openapi.json returned HTTP " + std::to_string(r.status) + "; assuming ART 0.4.x";
    return d;
  }
  return parse_openapi_reply(r.body);
}

void ArtClient::register_model(const std::string &model_json) const {
  HttpResponse r =
      post_with_retries("/register", model_json, options_.request_timeout_s, 1 + options_.retries);
  if (r.status < 200 || r.status >= 300) fail_http("POST /register", r);
}

InferenceEndpoint ArtClient::prepare_backend(const std::string &model_json,
                                             const nlohmann::json &server_config) const {
  std::string body = "{\"model\":" + model_json + ",\"config\":" + nat::json::dump(server_config) + "}";
  // Not retried: each call restarts the server's vLLM.
  HttpResponse r = post_with_retries("/_prepare_backend_for_training", body, options_.prepare_timeout_s, 1);
  if (r.status < 200 || r.status >= 300) fail_http("POST /_prepare_backend_for_training", r);
  PreparedBackend reply = parse_prepare_reply(r.body);
  InferenceEndpoint ep;
  if (options_.inference_base_url.empty()) {
    try {
      ep.base_url = rewrite_url_host(reply.base_url, options_.host);
    } catch (const Error &e) {
      SecretRedactor with_key;  // the key is not registered with the adapter yet
      with_key.add(reply.api_key);
      throw Error(ErrorCode::Unavailable,
                  "POST /_prepare_backend_for_training: the base_url it returned, '" +
                      with_key.quote(secrets_.redact(reply.base_url), kMaxQuotedReply) +
                      "', is refused: " + e.what());
    }
  } else {
    ep.base_url = options_.inference_base_url;
  }
  while (!ep.base_url.empty() && ep.base_url.back() == '/') ep.base_url.pop_back();
  ep.api_key = std::move(reply.api_key);
  return ep;
}

int64_t ArtClient::get_step(const std::string &model_json) const {
  HttpResponse r =
      post_with_retries("/_get_step", model_json, options_.get_step_timeout_s, 1 + options_.retries);
  if (r.status != 200) fail_http("POST /_get_step", r);
  return parse_step_reply(r.body, secrets_);
}

void ArtClient::delete_checkpoints(Dialect dialect, const std::string &model_json, int64_t keep_step) const {
  HttpResponse r;
  if (dialect == Dialect::V05) {
    std::string body = "{\"model\":" + model_json + ",\"steps_to_keep\":[" + std::to_string(keep_step) + "]}";
    r = post_with_retries("/_delete_checkpoint_files", body, options_.request_timeout_s, 1);
    if (r.status < 200 || r.status >= 300) fail_http("POST /_delete_checkpoint_files", r);
  } else {
    r = post_with_retries("/_delete_checkpoints?benchmark=val%2Freward&benchmark_smoothing=1.0", model_json,
                          options_.request_timeout_s, 1);
    if (r.status < 200 || r.status >= 300) fail_http("POST /_delete_checkpoints", r);
  }
}

bool ArtClient::probe_inference(const std::string &inference_base_url, const std::string &api_key,
                                std::string *why) const {
  RequestOptions o = probe_options();
  o.headers.push_back("Authorization: Bearer " + api_key);
  try {
    http_.get(inference_base_url + "/models", o);  // any HTTP answer counts, as in NAT
    return true;
  } catch (const TransportError &e) {
    if (why) *why = std::string("inference server: ") + e.what();
    return false;
  }
}

bool ArtClient::probe_both(const std::string &inference_base_url, const std::string &api_key) const {
  // The inference probe on a thread of its own, the control probe here: each
  // has the health timeout, and they run at the same time.
  bool inference_ok = false;
  std::thread inference([&] {
    try {
      inference_ok = probe_inference(inference_base_url, api_key, nullptr);
    } catch (...) {
      inference_ok = false;
    }
  });
  bool control_ok = false;
  try {
    control_ok = probe_control(nullptr);
  } catch (...) {
    control_ok = false;
  }
  inference.join();
  return control_ok && inference_ok;
}

bool ArtClient::probe_control(std::string *why) const {
  RequestOptions o = probe_options();
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
  o.connect_timeout_s = options_.connect_timeout_s;
  o.keepalive_idle_s = options_.keepalive_idle_s;
  o.max_line_bytes = options_.max_response_bytes;
  o.cancel = cancel;
  o.error_body_timeout_s = options_.request_timeout_s;
  return http_.post_streaming(base_url_ + "/_train_model", body, on_line, o);
}

}  // namespace nat::art
