#include "customizer/customizer_config.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "base/error.h"
#include "http/curl_library.h"
#include "json/small_json.h"
#include "nat/lax_number.h"

namespace nat::customizer {

namespace {

using Json = nlohmann::json;

// No upper bound but the finite doubles (pydantic sets none).
constexpr double kNoMax = std::numeric_limits<double>::max();

[[noreturn]] void bad(const std::string &key, const std::string &what) {
  throw_invalid("config: " + key + ": " + what);
}

std::string type_name(const Json &v) { return v.is_number() ? "number" : v.type_name(); }

const Json *find(const Json &obj, const char *key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string get_string(const Json &obj, const char *key, const std::string &path, std::string def,
                       bool required = false) {
  const Json *v = find(obj, key);
  if (!v) {
    if (required) bad(path + key, "missing required key");
    return def;
  }
  if (!v->is_string()) bad(path + key, "expected a string, got " + type_name(*v));
  return v->get<std::string>();
}

std::optional<std::string> get_optional_string(const Json &obj, const char *key, const std::string &path) {
  const Json *v = find(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad(path + key, "expected a string or null, got " + type_name(*v));
  return v->get<std::string>();
}

bool get_bool(const Json &obj, const char *key, const std::string &path, bool def) {
  const Json *v = find(obj, key);
  if (!v) return def;
  auto b = lax_bool(*v);
  if (!b)
    bad(path + key,
        "expected a boolean, got " + (v->is_string() ? std::string("another string") : type_name(*v)));
  return *b;
}

std::string bound_text(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A float field as pydantic reads it (a number, a numeric string, a boolean
// for NAT's fields), checked against min (exclusive when `gt`) and max.
double get_number(const Json &obj, const char *key, const std::string &path, double def, double min_value,
                  bool gt, double max_value, bool nat_field) {
  const Json *v = find(obj, key);
  if (!v) return def;
  if (v->is_boolean() && !nat_field) bad(path + key, "expected a number, got boolean");
  auto d = lax_float(*v);
  if (!d)
    bad(path + key, "expected a number, got " +
                        (v->is_string() ? std::string("a string that is not one") : type_name(*v)));
  bool ok = std::isfinite(*d) && (gt ? *d > min_value : *d >= min_value) && *d <= max_value;
  if (!ok) {
    std::string range = std::string(gt ? "greater than " : "at least ") + bound_text(min_value);
    if (max_value < 1e300) range += " and at most " + bound_text(max_value);
    bad(path + key, "must be a number " + range);
  }
  return *d;
}

long long get_integer(const Json &obj, const char *key, const std::string &path, long long def,
                      long long min_value, long long max_value, bool nat_field) {
  const Json *v = find(obj, key);
  if (!v) return def;
  if (v->is_boolean() && !nat_field) bad(path + key, "expected an integer, got boolean");
  auto d = lax_integer(*v);
  if (!d)
    bad(path + key, "expected an integer, got " +
                        (v->is_string() ? std::string("a string that is not one") : type_name(*v)));
  if (!(*d >= static_cast<double>(min_value) && *d <= static_cast<double>(max_value)))
    bad(path + key,
        "must be an integer between " + std::to_string(min_value) + " and " + std::to_string(max_value));
  return static_cast<long long>(*d);
}

size_t first_control(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

void refuse_controls(const std::string &value, const std::string &key, const char *because) {
  size_t at = first_control(value);
  if (at == std::string::npos) return;
  char buf[96];
  std::snprintf(buf, sizeof buf, "contains a control character (byte 0x%02x at offset %zu)",
                static_cast<unsigned>(static_cast<unsigned char>(value[at])), at);
  bad(key, std::string(buf) + "; refused because the value " + because);
}

// NAT strips trailing slashes; the requests are made to <host>/v1/...
std::string get_host(const Json &root, const char *key) {
  std::string host = get_string(root, key, "", "", true);
  while (!host.empty() && host.back() == '/') host.pop_back();
  refuse_controls(host, key, "is a URL");
  if (host.find(' ') != std::string::npos) bad(key, "contains a space; a URL has none (write it as %20)");
  size_t scheme_end = host.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : host.substr(0, scheme_end);
  for (char &c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https")
    bad(key, "expected an http:// or https:// URL (e.g. http://nemo.example.com)");
  if (host.size() == scheme_end + 3) bad(key, "the URL names no host");
  return host;
}

// Names that go into request paths (percent-encoded there) and file names.
void check_name(const std::string &value, const std::string &key) {
  if (value.empty()) bad(key, "must not be empty");
  refuse_controls(value, key, "goes into request paths");
}

void parse_hyperparameters(const Json &h, Hyperparameters &o) {
  const std::string p = "hyperparameters.";
  o.training_type = get_string(h, "training_type", p, o.training_type);
  if (o.training_type != "sft" && o.training_type != "dpo")
    bad(p + "training_type", "expected \"sft\" or \"dpo\"");
  o.finetuning_type = get_string(h, "finetuning_type", p, o.finetuning_type);
  if (o.finetuning_type != "lora" && o.finetuning_type != "all_weights")
    bad(p + "finetuning_type", "expected \"lora\" or \"all_weights\"");
  o.epochs = get_integer(h, "epochs", p, o.epochs, 1, 1ll << 53, true);
  o.batch_size = get_integer(h, "batch_size", p, o.batch_size, 1, 1ll << 53, true);
  o.learning_rate = get_number(h, "learning_rate", p, o.learning_rate, 0.0, true, kNoMax, true);
  if (const Json *dpo = find(h, "dpo")) {
    if (!dpo->is_object()) bad(p + "dpo", "expected an object, got " + type_name(*dpo));
    const std::string q = p + "dpo.";
    DpoHyperparameters &d = o.dpo;
    d.ref_policy_kl_penalty =
        get_number(*dpo, "ref_policy_kl_penalty", q, d.ref_policy_kl_penalty, 0.0, false, kNoMax, true);
    d.preference_loss_weight =
        get_number(*dpo, "preference_loss_weight", q, d.preference_loss_weight, 0.0, false, kNoMax, true);
    d.preference_average_log_probs =
        get_bool(*dpo, "preference_average_log_probs", q, d.preference_average_log_probs);
    d.sft_loss_weight = get_number(*dpo, "sft_loss_weight", q, d.sft_loss_weight, 0.0, false, kNoMax, true);
  }
}

void parse_deployment(const Json &d, DeploymentConfig &o) {
  const std::string p = "deployment_config.";
  o.image_name = get_string(d, "image_name", p, o.image_name);
  o.image_tag = get_string(d, "image_tag", p, o.image_tag);
  o.gpu = get_integer(d, "gpu", p, o.gpu, 1, 1ll << 31, true);
  o.deployment_name = get_optional_string(d, "deployment_name", p);
  if (o.deployment_name) check_name(*o.deployment_name, p + "deployment_name");
  o.description = get_string(d, "description", p, o.description);
}

void parse_native(const Json &n, NativeOptions &o) {
  static const char *known[] = {"connect_timeout_s", "request_timeout_s",
                                "upload_timeout_s",  "health_timeout_s",
                                "max_json_depth",    "max_response_bytes",
                                "ca_path",           "insecure_skip_tls_verify",
                                "libcurl_path",      "spool",
                                "spool_dir"};
  for (auto it = n.begin(); it != n.end(); ++it) {
    bool ok = false;
    for (const char *k : known) ok = ok || it.key() == k;
    if (!ok) bad("native." + it.key(), "unknown option");
  }
  const std::string p = "native.";
  using O = NativeOptions;
  for (auto [key, field] : {std::pair{"connect_timeout_s", &O::connect_timeout_s},
                            {"request_timeout_s", &O::request_timeout_s},
                            {"upload_timeout_s", &O::upload_timeout_s},
                            {"health_timeout_s", &O::health_timeout_s}})
    o.*field = get_number(n, key, p, o.*field, O::kMinTimeoutS, false, O::kMaxTimeoutS, false);
  o.max_json_depth = static_cast<int>(
      get_integer(n, "max_json_depth", p, o.max_json_depth, O::kMinJsonDepth, O::kMaxJsonDepth, false));
  o.max_response_bytes = static_cast<size_t>(get_integer(n, "max_response_bytes", p,
                                                         static_cast<long long>(o.max_response_bytes),
                                                         O::kMinResponseBytes, O::kMaxResponseBytes, false));
  o.ca_path = get_string(n, "ca_path", p, "");
  refuse_controls(o.ca_path, "native.ca_path", "is handed to libcurl");
  o.insecure_skip_tls_verify = get_bool(n, "insecure_skip_tls_verify", p, false);
  if (n.contains("libcurl_path")) {
    o.libcurl_path = get_string(n, "libcurl_path", p, "");
    const std::string problem = http::libcurl_path_problem(o.libcurl_path);
    if (!problem.empty()) bad("native.libcurl_path", problem);
  }
  o.spool = get_bool(n, "spool", p, true);
  o.spool_dir = get_string(n, "spool_dir", p, o.spool_dir);
  if (o.spool_dir.empty()) bad("native.spool_dir", "must not be empty");
  if (o.spool_dir.find('\0') != std::string::npos) bad("native.spool_dir", "contains a NUL byte");
}

}  // namespace

nlohmann::ordered_json CustomizerConfig::hyperparameters_json() const {
  const Hyperparameters &h = hyperparameters;
  // model_dump(): declaration order; floats stay floats.
  return {{"training_type", h.training_type},
          {"finetuning_type", h.finetuning_type},
          {"epochs", h.epochs},
          {"batch_size", h.batch_size},
          {"learning_rate", h.learning_rate},
          {"dpo",
           {{"ref_policy_kl_penalty", h.dpo.ref_policy_kl_penalty},
            {"preference_loss_weight", h.dpo.preference_loss_weight},
            {"preference_average_log_probs", h.dpo.preference_average_log_probs},
            {"sft_loss_weight", h.dpo.sft_loss_weight}}}};
}

CustomizerConfig parse_customizer_config(std::string_view json_text, std::string_view expected_type) {
  Json root = json::parse_checked(json_text, "config", 64, json::DuplicateKeys::Refuse);
  if (!root.is_object()) throw_invalid("config: expected a JSON object, got " + type_name(root));
  CustomizerConfig c;
  const Json *type = find(root, "_type");
  if (!type) type = find(root, "type");
  if (type) {
    if (!type->is_string()) bad("_type", "expected a string");
    c.type = type->get<std::string>();
    if (!expected_type.empty() && c.type != expected_type)
      bad("_type", "this plugin implements \"" + std::string(expected_type) + "\", not \"" + c.type + "\"");
  }
  c.entity_host = get_host(root, "entity_host");
  c.datastore_host = get_host(root, "datastore_host");
  c.hf_token = get_string(root, "hf_token", "", "");
  refuse_controls(c.hf_token, "hf_token", "is sent in an HTTP header");
  c.namespace_ = get_string(root, "namespace", "", "", true);
  check_name(c.namespace_, "namespace");
  c.dataset_name = get_string(root, "dataset_name", "", c.dataset_name);
  check_name(c.dataset_name, "dataset_name");
  c.dataset_output_dir = get_optional_string(root, "dataset_output_dir", "");
  if (c.dataset_output_dir && c.dataset_output_dir->find('\0') != std::string::npos)
    bad("dataset_output_dir", "contains a NUL byte");
  c.create_namespace_if_missing = get_bool(root, "create_namespace_if_missing", "", true);
  c.customization_config = get_string(root, "customization_config", "", "", true);
  if (const Json *h = find(root, "hyperparameters")) {
    if (!h->is_object()) bad("hyperparameters", "expected an object, got " + type_name(*h));
    parse_hyperparameters(*h, c.hyperparameters);
  }
  c.use_full_message_history = get_bool(root, "use_full_message_history", "", false);
  c.deploy_on_completion = get_bool(root, "deploy_on_completion", "", false);
  if (const Json *d = find(root, "deployment_config")) {
    if (!d->is_object()) bad("deployment_config", "expected an object, got " + type_name(*d));
    parse_deployment(*d, c.deployment_config);
  }
  c.poll_interval_seconds =
      get_number(root, "poll_interval_seconds", "", c.poll_interval_seconds, 0.0, true, kNoMax, true);
  c.deployment_timeout_seconds = get_number(root, "deployment_timeout_seconds", "",
                                            c.deployment_timeout_seconds, 0.0, true, kNoMax, true);
  c.max_consecutive_status_failures = get_integer(root, "max_consecutive_status_failures", "",
                                                  c.max_consecutive_status_failures, 1, 10, true);
  if (const Json *r = find(root, "reward")) {
    if (!r->is_object()) bad("reward", "expected an object or null, got " + type_name(*r));
    c.reward = *r;
  }
  if (const Json *n = find(root, "native")) {
    if (!n->is_object()) bad("native", "expected an object, got " + type_name(*n));
    parse_native(*n, c.native);
  }
  return c;
}

}  // namespace nat::customizer
