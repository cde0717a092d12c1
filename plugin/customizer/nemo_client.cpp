#include "customizer/nemo_client.h"

#include <cmath>
#include <functional>

#include "base/error.h"
#include "customizer/py_json.h"
#include "json/small_json.h"

namespace nat::customizer {

namespace {

constexpr int kMaxReplyDepth = 64;
constexpr size_t kMaxQuoted = 500;

bool is_2xx(long s) { return s >= 200 && s < 300; }

// A string field of a reply that becomes part of a URL, a file name or a
// message: bounded and free of control characters.
std::string id_field(const nlohmann::json &obj, const char *key, const std::string &what, bool required,
                     bool *present = nullptr) {
  auto it = obj.find(key);
  if (present) *present = it != obj.end() && !it->is_null();
  if (it == obj.end() || it->is_null()) {
    if (required) throw Error(ErrorCode::Unavailable, what + ": the reply has no \"" + key + "\"");
    return "";
  }
  if (!it->is_string())
    throw Error(ErrorCode::Unavailable, what + ": \"" + key + "\" in the reply is not a string");
  const std::string &v = it->get_ref<const std::string &>();
  if (v.size() > NemoClient::kMaxIdBytes)
    throw Error(ErrorCode::Unavailable, what + ": \"" + key + "\" in the reply is longer than " +
                                            std::to_string(NemoClient::kMaxIdBytes) + " bytes");
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f)
      throw Error(ErrorCode::Unavailable,
                  what + ": \"" + key + "\" in the reply contains a control character");
  if (required && v.empty())
    throw Error(ErrorCode::Unavailable, what + ": \"" + key + "\" in the reply is empty");
  return v;
}

std::string form_encode(std::string_view text) {
  // urllib.parse.urlencode (quote_plus): space as '+'.
  static const char *hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string path_segment(std::string_view text) {
  static const char *hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  // "." and ".." are path steps, not names.
  if (out == "." || out == "..") {
    std::string escaped;
    for (size_t i = 0; i < out.size(); ++i) escaped += "%2E";
    return escaped;
  }
  return out;
}

std::string body_text(const nlohmann::ordered_json &body) {
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string base64(std::string_view bytes) {
  static const char *table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned v = p[i] << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    unsigned v = (p[i] << 16) | (p[i + 1] << 8);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

NemoClient::NemoClient(ClientOptions options, const SecretRedactor &secrets)
    : o_(std::move(options)),
      secrets_(secrets),
      http_(http::TlsOptions{o_.ca_path, o_.insecure_skip_tls_verify}) {}

http::RequestOptions NemoClient::options(double timeout_s, bool hf_auth,
                                         const std::atomic<bool> *cancel) const {
  http::RequestOptions r;
  r.connect_timeout_s = o_.connect_timeout_s;
  r.timeout_s = timeout_s;
  r.max_response_bytes = o_.max_response_bytes;
  r.cancel = cancel;
  // An empty token sends no header at all (an empty "Bearer " is refused by
  // HTTP clients and means nothing to a server).
  if (hf_auth && !o_.hf_token.empty()) r.headers.push_back("Authorization: Bearer " + o_.hf_token);
  return r;
}

http::HttpResponse NemoClient::expect(const char *service, const std::string &what, const std::string &url,
                                      const std::function<http::HttpResponse()> &send,
                                      std::initializer_list<long> also_ok) const {
  http::HttpResponse r;
  try {
    r = send();
  } catch (const http::TransportError &e) {
    throw Error(ErrorCode::Unavailable,
                std::string(service) + ": " + what + " failed: " + secrets_.redact(e.what()));
  }
  bool ok = is_2xx(r.status);
  for (long s : also_ok) ok = ok || r.status == s;
  if (!ok) {
    std::string detail = secrets_.quote(r.body, kMaxQuoted);
    throw Error(ErrorCode::Unavailable,
                std::string(service) + ": " + what + " (" + url + ") returned HTTP " +
                    std::to_string(r.status) +
                    (detail.empty() ? std::string(" with an empty body") : ": " + detail));
  }
  return r;
}

nlohmann::json NemoClient::reply_object(const char *service, const std::string &what,
                                        const http::HttpResponse &r) const {
  nlohmann::json j;
  try {
    j = json::parse_checked(r.body, "reply", kMaxReplyDepth);
  } catch (const Error &e) {
    throw Error(ErrorCode::Unavailable, std::string(service) + ": " + what + " answered HTTP " +
                                            std::to_string(r.status) +
                                            " with a body that is not usable JSON (" + e.what() +
                                            "): " + secrets_.quote(r.body, 200));
  }
  if (!j.is_object())
    throw Error(ErrorCode::Unavailable,
                std::string(service) + ": " + what +
                    " answered with JSON that is not an object: " + secrets_.quote(r.body, 200));
  return j;
}

std::string NemoClient::create_entity_namespace(const std::string &ns) {
  const std::string url = o_.entity_host + "/v1/namespaces";
  nlohmann::ordered_json body = {{"id", ns}, {"description", "NAT finetuning namespace: " + ns}};
  try {
    auto r = http_.post_json(url, body_text(body), options(o_.request_timeout_s, false));
    if (is_2xx(r.status)) return "created";
    if (r.status == 409 || r.status == 422) return "exists";
    return "HTTP " + std::to_string(r.status) + ": " + secrets_.quote(r.body, 200);
  } catch (const http::TransportError &e) {
    return secrets_.redact(e.what());
  }
}

std::string NemoClient::create_datastore_namespace(const std::string &ns) {
  const std::string url = o_.datastore_host + "/v1/datastore/namespaces";
  try {
    auto r = http_.post(url, "namespace=" + form_encode(ns), "application/x-www-form-urlencoded",
                        options(o_.request_timeout_s, false));
    if (r.status == 200 || r.status == 201) return "created";
    if (r.status == 409 || r.status == 422) return "exists";
    return "HTTP " + std::to_string(r.status) + ": " + secrets_.quote(r.body, 200);
  } catch (const http::TransportError &e) {
    return secrets_.redact(e.what());
  }
}

std::string NemoClient::probe(const char *service, const std::string &base, const std::string &url) const {
  try {
    http::RequestOptions ro = options(o_.health_timeout_s, false);
    ro.connect_timeout_s = std::min(o_.connect_timeout_s, o_.health_timeout_s);
    ro.max_response_bytes = 1u << 20;
    auto r = http_.get(url, ro);
    if (r.status > 0 && r.status < 500) return "";
    return std::string("the ") + service + " at " + base + " answered GET " + url + " with HTTP " +
           std::to_string(r.status);
  } catch (const http::TransportError &e) {
    return std::string("the ") + service + " at " + base + " is not reachable: " + secrets_.redact(e.what());
  }
}

std::string NemoClient::probe_entity_store() const {
  return probe(kEntityStore, o_.entity_host, o_.entity_host + "/v1/namespaces");
}

std::string NemoClient::probe_data_store() const {
  return probe(kDataStore, o_.datastore_host, o_.datastore_host + "/v1/datastore/namespaces");
}

void NemoClient::create_dataset_repo(const std::string &ns, const std::string &name,
                                     const std::atomic<bool> *cancel) {
  const std::string url = o_.datastore_host + "/v1/hf/api/repos/create";
  nlohmann::ordered_json body = {{"name", name}, {"organization", ns}, {"type", "dataset"}};
  const std::string text = body_text(body);
  // exist_ok=True: 409 is the repository that is already there.
  expect(kDataStore, "POST /v1/hf/api/repos/create", url,
         [&] { return http_.post_json(url, text, options(o_.request_timeout_s, true, cancel)); }, {409});
}

std::string NemoClient::register_dataset(const std::string &ns, const std::string &name,
                                         const std::string &run_id, const std::atomic<bool> *cancel) {
  const std::string url = o_.entity_host + "/v1/datasets";
  // The SDK's order.
  nlohmann::ordered_json body = {{"files_url", "hf://datasets/" + ns + "/" + name},
                                 {"description", "NAT DPO training dataset for run " + run_id},
                                 {"name", name},
                                 {"namespace", ns}};
  // NAT goes on whatever happens ("Dataset may already exist").
  try {
    auto r = http_.post_json(url, body_text(body), options(o_.request_timeout_s, false, cancel));
    if (is_2xx(r.status)) return "registered";
    return "HTTP " + std::to_string(r.status) + ": " + secrets_.quote(r.body, 200);
  } catch (const http::TransportError &e) {
    return secrets_.redact(e.what());
  }
}

std::string NemoClient::commit_body(const std::string &path_in_repo, std::string_view bytes,
                                    const std::string &commit_message) {
  std::string out = "{\"key\": \"header\", \"value\": {\"summary\": ";
  append_py_string(out, commit_message);
  out += ", \"description\": \"\"}}\n{\"key\": \"file\", \"value\": {\"content\": \"";
  out += base64(bytes);
  out += "\", \"path\": ";
  append_py_string(out, path_in_repo);
  out += ", \"encoding\": \"base64\"}}\n";
  return out;
}

std::string NemoClient::upload_file(const std::string &ns, const std::string &name,
                                    const std::string &path_in_repo, std::string_view bytes,
                                    const std::string &commit_message, const std::atomic<bool> *cancel) {
  const std::string repo =
      o_.datastore_host + "/v1/hf/api/datasets/" + path_segment(ns) + "/" + path_segment(name);
  const std::string pre_url = repo + "/preupload/main";
  nlohmann::ordered_json pre = {
      {"files",
       {{{"path", path_in_repo}, {"sample", base64(bytes.substr(0, 512))}, {"size", bytes.size()}}}}};
  const std::string pre_text = body_text(pre);
  const std::string pre_what = "POST preupload of " + path_in_repo;
  auto r = expect(kDataStore, pre_what, pre_url, [&] {
    return http_.post_json(pre_url, pre_text, options(o_.request_timeout_s, true, cancel));
  });
  nlohmann::json reply = reply_object(kDataStore, pre_what, r);
  auto files = reply.find("files");
  if (files == reply.end() || !files->is_array())
    throw Error(ErrorCode::Unavailable,
                std::string(kDataStore) + ": " + pre_what + ": the reply has no \"files\" list");
  std::string mode;
  bool ignore = false;
  for (const auto &f : *files) {
    if (!f.is_object()) continue;
    auto p = f.find("path");
    if (p == f.end() || !p->is_string() || *p != path_in_repo) continue;
    auto m = f.find("uploadMode");
    if (m != f.end() && m->is_string()) mode = m->get<std::string>();
    auto s = f.find("shouldIgnore");
    ignore = s != f.end() && s->is_boolean() && s->get<bool>();
  }
  if (mode != "regular") {
    throw Error(
        ErrorCode::Unavailable,
        std::string(kDataStore) + ": " + pre_what + ": " +
            (mode.empty() ? std::string("the reply does not say how to upload the file")
                          : "the Data Store asks for an upload mode other than \"regular\" (" +
                                secrets_.quote(mode, 40) + "), which this adapter does not implement"));
  }
  if (ignore)
    throw Error(ErrorCode::Unavailable, std::string(kDataStore) + ": " + pre_what +
                                            ": the Data Store would ignore the file (shouldIgnore), so the "
                                            "dataset would lack it");
  const std::string commit_url = repo + "/commit/main";
  const std::string body = commit_body(path_in_repo, bytes, commit_message);
  const std::string commit_what = "POST commit of " + path_in_repo;
  auto c = expect(kDataStore, commit_what, commit_url, [&] {
    return http_.post(commit_url, body, "application/x-ndjson", options(o_.upload_timeout_s, true, cancel));
  });
  nlohmann::json commit = reply_object(kDataStore, commit_what, c);
  return id_field(commit, "commitOid", std::string(kDataStore) + ": " + commit_what, false);
}

CreatedJob NemoClient::create_job(const nlohmann::ordered_json &body, const std::atomic<bool> *cancel) {
  const std::string url = o_.entity_host + "/v1/customization/jobs";
  const std::string text = body_text(body);
  const std::string what = "POST /v1/customization/jobs";
  auto r = expect(kEntityStore, what, url,
                  [&] { return http_.post_json(url, text, options(o_.request_timeout_s, false, cancel)); });
  nlohmann::json reply = reply_object(kEntityStore, what, r);
  CreatedJob job;
  const std::string context = std::string(kEntityStore) + ": " + what;
  job.id = id_field(reply, "id", context, true);
  bool has_model = false;
  std::string model = id_field(reply, "output_model", context, false, &has_model);
  if (has_model) job.output_model = model;
  return job;
}

JobStatusReply NemoClient::job_status(const std::string &job_id, const std::atomic<bool> *cancel) const {
  const std::string url = o_.entity_host + "/v1/customization/jobs/" + path_segment(job_id) + "/status";
  const std::string what = "GET /v1/customization/jobs/" + job_id + "/status";
  auto r = expect(kEntityStore, what, url,
                  [&] { return http_.get(url, options(o_.request_timeout_s, false, cancel)); });
  nlohmann::json reply = reply_object(kEntityStore, what, r);
  JobStatusReply s;
  const std::string context = std::string(kEntityStore) + ": " + what;
  s.status = id_field(reply, "status", context, true);
  auto p = reply.find("percentage_done");
  if (p != reply.end() && !p->is_null()) {
    if (!p->is_number() || !std::isfinite(p->get<double>()))
      throw Error(ErrorCode::Unavailable, context + ": \"percentage_done\" in the reply is not a number");
    s.percentage_done = p->get<double>();
  }
  auto e = reply.find("epochs_completed");
  if (e != reply.end() && !e->is_null()) {
    if (!e->is_number_integer() &&
        !(e->is_number_float() && std::floor(e->get<double>()) == e->get<double>() &&
          std::fabs(e->get<double>()) < 9e15))
      throw Error(ErrorCode::Unavailable, context + ": \"epochs_completed\" in the reply is not an integer");
    s.epochs_completed = e->is_number_float() ? nlohmann::json(static_cast<long long>(e->get<double>())) : *e;
  }
  return s;
}

void NemoClient::cancel_job(const std::string &job_id) const {
  const std::string url = o_.entity_host + "/v1/customization/jobs/" + path_segment(job_id) + "/cancel";
  expect(kEntityStore, "POST /v1/customization/jobs/" + job_id + "/cancel", url,
         [&] { return http_.post_json(url, "{}", options(o_.request_timeout_s, false)); });
}

std::string NemoClient::create_deployment_config(const nlohmann::ordered_json &body) {
  const std::string url = o_.entity_host + "/v1/deployment/configs";
  const std::string text = body_text(body);
  const std::string what = "POST /v1/deployment/configs";
  auto r = expect(kEntityStore, what, url,
                  [&] { return http_.post_json(url, text, options(o_.request_timeout_s, false)); });
  nlohmann::json reply = reply_object(kEntityStore, what, r);
  const std::string context = std::string(kEntityStore) + ": " + what;
  return id_field(reply, "namespace", context, true) + "/" + id_field(reply, "name", context, true);
}

void NemoClient::create_model_deployment(const nlohmann::ordered_json &body) {
  const std::string url = o_.entity_host + "/v1/deployment/model-deployments";
  const std::string text = body_text(body);
  expect(kEntityStore, "POST /v1/deployment/model-deployments", url,
         [&] { return http_.post_json(url, text, options(o_.request_timeout_s, false)); });
}

DeploymentState NemoClient::find_deployment(const std::string &ns, const std::string &name,
                                            const std::atomic<bool> *cancel) const {
  const std::string url = o_.entity_host + "/v1/deployment/model-deployments";
  const std::string what = "GET /v1/deployment/model-deployments";
  auto r = expect(kEntityStore, what, url,
                  [&] { return http_.get(url, options(o_.request_timeout_s, false, cancel)); });
  nlohmann::json reply = reply_object(kEntityStore, what, r);
  auto data = reply.find("data");
  if (data == reply.end() || !data->is_array())
    throw Error(ErrorCode::Unavailable,
                std::string(kEntityStore) + ": " + what + ": the reply has no \"data\" list");
  DeploymentState st;
  for (const auto &d : *data) {
    if (!d.is_object()) continue;
    auto n = d.find("name");
    auto s = d.find("namespace");
    if (n == d.end() || s == d.end() || *n != name || *s != ns) continue;
    st.found = true;
    auto details = d.find("status_details");
    if (details != d.end() && details->is_object()) {
      auto status = details->find("status");
      if (status != details->end() && status->is_string())
        st.status = secrets_.quote(status->get<std::string>(), 100);
      auto desc = details->find("description");
      if (desc != details->end() && desc->is_string())
        st.description = secrets_.quote(desc->get<std::string>(), kMaxQuoted);
    }
    break;
  }
  return st;
}

}  // namespace nat::customizer
