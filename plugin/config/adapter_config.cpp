#include "config/adapter_config.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "adapter/error.h"
#include "json/small_json.h"

namespace nat {

namespace {

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string &key, const std::string &what) { throw_invalid("config: " + key + ": " + what); }

std::string type_name(const Json &v) { return v.is_number() ? "number" : v.type_name(); }

std::string get_string(const Json &obj, const char *key, const std::string &path, const std::string &def,
                       bool required = false) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) bad(path + key, "missing required key");
    return def;
  }
  if (!it->is_string()) bad(path + key, "expected a string, got " + type_name(*it));
  return it->get<std::string>();
}

bool get_bool(const Json &obj, const char *key, const std::string &path, bool def) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (!it->is_boolean()) bad(path + key, "expected a boolean, got " + type_name(*it));
  return it->get<bool>();
}

// A bound as the error message shows it: 20, 0.001, 1073741824.
std::string bound_text(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A number option in [min_value, max_value]. The range is checked on the
// double itself (NaN and infinities fail it), so callers may cast the result.
double get_number(const Json &obj, const char *key, const std::string &path, double def, double min_value,
                  double max_value) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (!it->is_number()) bad(path + key, "expected a number, got " + type_name(*it));
  double v = it->get<double>();
  if (!(v >= min_value && v <= max_value))
    bad(path + key, "must be a number between " + bound_text(min_value) + " and " + bound_text(max_value) +
                        ", got " + it->dump());
  return v;
}

// An integer option in [min_value, max_value] (at most 2^53, so the bounds
// are exact as doubles). A JSON integer, or a number with an integral value
// (3.0, as YAML or a JSON serialiser may give it); range checked before any
// conversion, so no value of the input reaches an out-of-range cast.
long long get_integer(const Json &obj, const char *key, const std::string &path, long long def,
                      long long min_value, long long max_value) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (!it->is_number()) bad(path + key, "expected an integer, got " + type_name(*it));
  auto out_of_range = [&] {
    bad(path + key, "must be an integer between " + std::to_string(min_value) + " and " +
                        std::to_string(max_value) + ", got " + it->dump());
  };
  if (it->is_number_unsigned()) {
    auto u = it->get<unsigned long long>();
    if (max_value < 0 || u > static_cast<unsigned long long>(max_value) ||
        (min_value > 0 && u < static_cast<unsigned long long>(min_value)))
      out_of_range();
    return static_cast<long long>(u);
  }
  if (it->is_number_integer()) {
    auto i = it->get<long long>();
    if (i < min_value || i > max_value) out_of_range();
    return i;
  }
  double v = it->get<double>();
  if (!(v >= static_cast<double>(min_value) && v <= static_cast<double>(max_value)) || v != std::floor(v))
    out_of_range();
  return static_cast<long long>(v);
}

Json get_object_or_null(const Json &obj, const char *key, const std::string &path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Json();
  if (!it->is_object()) bad(path + key, "expected an object or null, got " + type_name(*it));
  return *it;
}

void parse_backend(const Json &b, BackendConfig &out) {
  const std::string p = "backend.";
  out.ip = get_string(b, "ip", p, "", true);
  if (out.ip.empty()) bad("backend.ip", "must not be empty");
  auto port = b.find("port");
  if (port == b.end() || port->is_null()) bad("backend.port", "missing required key");
  if (!port->is_number_integer()) bad("backend.port", "expected an integer, got " + type_name(*port));
  long long pv = port->get<long long>();
  if (pv < 1 || pv > 65535) bad("backend.port", "must be between 1 and 65535, got " + port->dump());
  out.port = static_cast<int>(pv);
  out.name = get_string(b, "name", p, out.name);
  out.project = get_string(b, "project", p, out.project);
  out.base_model = get_string(b, "base_model", p, out.base_model);
  out.api_key = get_string(b, "api_key", p, out.api_key);
  out.delete_old_checkpoints = get_bool(b, "delete_old_checkpoints", p, false);
  out.init_args = get_object_or_null(b, "init_args", p);
  out.engine_args = get_object_or_null(b, "engine_args", p);
  out.server_config = get_object_or_null(b, "server_config", p);
  if (out.name.empty()) bad("backend.name", "must not be empty");
  if (out.project.empty()) bad("backend.project", "must not be empty");
}

void parse_native(const Json &n, NativeOptions &o) {
  static const char *known[] = {"validation", "dialect", "scheme", "inference_base_url", "connect_timeout_s",
                                "request_timeout_s", "get_step_timeout_s", "prepare_timeout_s", "health_timeout_s",
                                "retries", "retry_backoff_s", "keepalive_idle_s", "max_json_depth",
                                "max_response_bytes", "ca_path", "insecure_skip_tls_verify", "spool", "spool_dir"};
  for (auto it = n.begin(); it != n.end(); ++it) {
    bool ok = false;
    for (const char *k : known) ok = ok || it.key() == k;
    if (!ok) bad("native." + it.key(), "unknown option");
  }
  const std::string p = "native.";
  std::string mode = get_string(n, "validation", p, "compat");
  auto m = parse_validation_mode(mode);
  if (!m) bad("native.validation", "expected \"compat\" or \"strict\", got \"" + mode + "\"");
  o.validation = *m;
  std::string d = get_string(n, "dialect", p, "auto");
  if (d == "auto") o.dialect = Dialect::Auto;
  else if (d == "0.4" || d == "0.4.x") o.dialect = Dialect::V04;
  else if (d == "0.5" || d == "0.5.x") o.dialect = Dialect::V05;
  else bad("native.dialect", "expected \"auto\", \"0.4\" or \"0.5\", got \"" + d + "\"");
  o.scheme = get_string(n, "scheme", p, o.scheme);
  if (o.scheme != "http" && o.scheme != "https") bad("native.scheme", "expected \"http\" or \"https\"");
  o.inference_base_url = get_string(n, "inference_base_url", p, "");
  // Ranges checked on the JSON value before it is converted (issue 7: a
  // float-to-int cast of an unchecked double, e.g. retries 1e300, is UB).
  using O = NativeOptions;
  for (auto [key, field] : {std::pair{"connect_timeout_s", &O::connect_timeout_s},
                            {"request_timeout_s", &O::request_timeout_s},
                            {"get_step_timeout_s", &O::get_step_timeout_s},
                            {"prepare_timeout_s", &O::prepare_timeout_s},
                            {"health_timeout_s", &O::health_timeout_s}})
    o.*field = get_number(n, key, p, o.*field, O::kMinTimeoutS, O::kMaxTimeoutS);
  o.retries = static_cast<int>(get_integer(n, "retries", p, o.retries, 0, O::kMaxRetries));
  o.retry_backoff_s = get_number(n, "retry_backoff_s", p, o.retry_backoff_s, 0, O::kMaxRetryBackoffS);
  o.keepalive_idle_s = get_number(n, "keepalive_idle_s", p, o.keepalive_idle_s, 1, O::kMaxKeepaliveIdleS);
  o.max_json_depth = static_cast<int>(
      get_integer(n, "max_json_depth", p, o.max_json_depth, O::kMinJsonDepth, O::kMaxJsonDepth));
  o.max_response_bytes = static_cast<size_t>(get_integer(n, "max_response_bytes", p,
                                                         static_cast<long long>(o.max_response_bytes),
                                                         O::kMinResponseBytes, O::kMaxResponseBytes));
  o.ca_path = get_string(n, "ca_path", p, "");
  o.insecure_skip_tls_verify = get_bool(n, "insecure_skip_tls_verify", p, false);
  o.spool = get_bool(n, "spool", p, true);
  o.spool_dir = get_string(n, "spool_dir", p, o.spool_dir);
  if (o.spool_dir.empty()) bad("native.spool_dir", "must not be empty");
}

}  // namespace

const char *dialect_name(Dialect dialect) {
  switch (dialect) {
    case Dialect::Auto: return "auto";
    case Dialect::V04: return "0.4";
    case Dialect::V05: return "0.5";
  }
  return "auto";
}

double AdapterConfig::learning_rate() const {
  if (training.is_object()) {
    auto it = training.find("learning_rate");
    if (it != training.end() && it->is_number()) return it->get<double>();
  }
  return 5e-5;
}

double AdapterConfig::beta() const {
  if (training.is_object()) {
    auto it = training.find("beta");
    if (it != training.end() && it->is_number()) return it->get<double>();
  }
  return 0.0;
}

AdapterConfig parse_adapter_config(std::string_view json_text, std::string_view expected_type) {
  Json root = json::parse_checked(json_text, "config");
  if (!root.is_object()) throw_invalid("config: expected a JSON object, got " + type_name(root));
  AdapterConfig cfg;
  auto type_it = root.find("_type");
  if (type_it == root.end()) type_it = root.find("type");
  if (type_it != root.end() && !type_it->is_null()) {
    if (!type_it->is_string()) bad("_type", "expected a string");
    cfg.type = type_it->get<std::string>();
    if (!expected_type.empty() && cfg.type != expected_type)
      bad("_type", "this plugin implements \"" + std::string(expected_type) + "\", not \"" + cfg.type + "\"");
  }
  auto backend = root.find("backend");
  if (backend == root.end() || backend->is_null()) bad("backend", "missing required key");
  if (!backend->is_object()) bad("backend", "expected an object, got " + type_name(*backend));
  parse_backend(*backend, cfg.backend);
  cfg.training = get_object_or_null(root, "training", "");
  if (cfg.training.is_object()) {
    for (const char *k : {"learning_rate", "beta"}) {
      auto it = cfg.training.find(k);
      if (it != cfg.training.end() && !it->is_null() && (!it->is_number() || !std::isfinite(it->get<double>())))
        bad(std::string("training.") + k, "expected a finite number, got " + type_name(*it));
    }
  }
  cfg.reward = get_object_or_null(root, "reward", "");
  auto native = root.find("native");
  if (native != root.end() && !native->is_null()) {
    if (!native->is_object()) bad("native", "expected an object, got " + type_name(*native));
    parse_native(*native, cfg.native);
  }
  return cfg;
}

}  // namespace nat
