#include "config/adapter_config.h"

#ifdef _WIN32
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#endif

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "http/curl_library.h"
#include "json/scanner.h"
#include "json/small_json.h"
#include "nat/lax_number.h"

namespace nat {

namespace {

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string &key, const std::string &what) {
  throw_invalid("config: " + key + ": " + what);
}

std::string type_name(const Json &v) { return v.is_number() ? "number" : v.type_name(); }

std::string get_string(const Json &obj, const char *key, const std::string &path, const std::string &def,
                       bool required = false) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) bad(path + key, "missing required key");
    return def;
  }
  // pydantic's str fields take no numbers: neither does this.
  if (!it->is_string()) bad(path + key, "expected a string, got " + type_name(*it));
  return it->get<std::string>();
}

// A bool field, with pydantic's lax coercions (nat/lax_number.h).
bool get_bool(const Json &obj, const char *key, const std::string &path, bool def) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  auto v = lax_bool(*it);
  if (!v)
    bad(path + key,
        "expected a boolean (true/false, or one of the strings pydantic reads as one: "
        "\"true\", \"false\", \"yes\", \"no\", \"on\", \"off\", \"1\", \"0\"), got " +
            (it->is_string() ? std::string("another string") : type_name(*it)));
  return *v;
}

// A bound as the error message shows it: 20, 0.001, 1073741824.
std::string bound_text(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A value as an out-of-range message shows it: numbers as given, a string
// (which may be anything, even a pasted secret) not at all.
std::string shown_value(const Json &v) {
  return v.is_string() ? "a numeric string out of range" : json::dump(v);
}

// A number option in [min_value, max_value]: a JSON number, or what
// pydantic's lax mode reads as a float (a numeric string such as "1e-5"; a
// boolean only for a NAT field). The range is checked on the double itself (NaN and infinities
// fail it), so callers may cast the result.
// Booleans count as 1 and 0 only where pydantic reads the field (`nat_field`):
// for this implementation's own options a boolean is a mistake.
double get_number(const Json &obj, const char *key, const std::string &path, double def, double min_value,
                  double max_value, bool nat_field = false) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (it->is_boolean() && !nat_field) bad(path + key, "expected a number, got boolean");
  auto v = lax_float(*it);
  if (!v)
    bad(path + key, it->is_string() ? std::string("expected a number, got a string that is not one")
                                    : "expected a number, got " + type_name(*it));
  if (!(*v >= min_value && *v <= max_value))
    bad(path + key, "must be a number between " + bound_text(min_value) + " and " + bound_text(max_value) +
                        ", got " + shown_value(*it));
  return *v;
}

// An integer option in [min_value, max_value] (at most 2^53, so the bounds
// are exact as doubles): a JSON integer, a number with an integral value
// (3.0, as YAML or a JSON serialiser may give it), or what pydantic's lax
// mode reads as an int ("3", "3.0"; a boolean only for a NAT field). The range is checked before
// any conversion, so no value of the input reaches an out-of-range cast.
long long get_integer(const Json &obj, const char *key, const std::string &path, long long def,
                      long long min_value, long long max_value, bool nat_field = false) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (it->is_boolean() && !nat_field) bad(path + key, "expected an integer, got boolean");
  auto out_of_range = [&] {
    bad(path + key, "must be an integer between " + std::to_string(min_value) + " and " +
                        std::to_string(max_value) + ", got " + shown_value(*it));
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
  auto v = lax_integer(*it);
  if (!v) {
    if (it->is_number()) out_of_range();  // a fraction, NaN or an infinity
    bad(path + key, it->is_string() ? std::string("expected an integer, got a string that is not one")
                                    : "expected an integer, got " + type_name(*it));
  }
  if (!(*v >= static_cast<double>(min_value) && *v <= static_cast<double>(max_value))) out_of_range();
  return static_cast<long long>(*v);
}

// A host name: dot-separated labels of letters, digits, hyphens and
// underscores (RFC 1123 plus the '_' of container and service names, which
// resolvers and libcurl accept), 1 to 63 characters each, neither starting
// nor ending with a hyphen; at most 253 characters; one trailing dot allowed.
bool is_host_name(const std::string &host) {
  std::string_view h(host);
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  if (h.empty() || h.size() > 253) return false;
  size_t start = 0;
  while (start <= h.size()) {
    size_t end = h.find('.', start);
    if (end == std::string_view::npos) end = h.size();
    std::string_view label = h.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    start = end + 1;
  }
  return true;
}

bool is_ipv6(const std::string &text) {
  in6_addr address{};
  return text.find('\0') == std::string::npos && ::inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

// What a message says about a control character, without quoting the value.
std::string control_character_at(const std::string &value, size_t at) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "a control character (byte 0x%02x at offset %zu)",
                static_cast<unsigned>(static_cast<unsigned char>(value[at])), at);
  return buf;
}

// Every object key once per object, at any depth; `path` names the key
// that repeats ("config: backend.ip: duplicate key"). The text was validated
// by parse_checked (depth and grammar), so the recursion is bounded.
void refuse_duplicates(json::Scanner &s, const std::string &path) {
  json::Kind k = s.peek();
  if (k == json::Kind::Object) {
    s.begin_object();
    std::vector<std::string> keys;
    std::string_view key;
    while (s.next_key(key)) {
      std::string name(key);
      std::string key_path = path.empty() ? name : path + "." + name;
      for (const std::string &seen : keys)
        if (seen == name)
          throw_invalid("config: " + key_path +
                        ": duplicate key (a key may appear once in a mapping; "
                        "JSON parsers disagree on which value would win)");
      keys.push_back(std::move(name));
      refuse_duplicates(s, key_path);
    }
  } else if (k == json::Kind::Array) {
    s.begin_array();
    size_t index = 0;
    while (s.next_element()) refuse_duplicates(s, path + "[" + std::to_string(index++) + "]");
  } else {
    s.skip_value();
  }
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
  check_backend_host(out.ip, "backend.ip");
  auto port = b.find("port");
  if (port == b.end() || port->is_null()) bad("backend.port", "missing required key");
  out.port = static_cast<int>(get_integer(b, "port", p, 0, 1, 65535, true));
  out.name = get_string(b, "name", p, out.name);
  out.project = get_string(b, "project", p, out.project);
  out.base_model = get_string(b, "base_model", p, out.base_model);
  out.api_key = get_string(b, "api_key", p, out.api_key);
  // Sent as "Authorization: Bearer <key>": a CR or LF would start a header of its own.
  refuse_control_characters(out.api_key, "backend.api_key", "is sent in an HTTP header");
  out.delete_old_checkpoints = get_bool(b, "delete_old_checkpoints", p, false);
  out.init_args = get_object_or_null(b, "init_args", p);
  out.engine_args = get_object_or_null(b, "engine_args", p);
  out.server_config = get_object_or_null(b, "server_config", p);
  // The key the server is told to give its vLLM: it comes back from
  // /_prepare_backend_for_training and is then sent in a header.
  if (out.server_config.is_object()) {
    auto args = out.server_config.find("server_args");
    if (args != out.server_config.end() && args->is_object()) {
      auto key = args->find("api_key");
      if (key != args->end() && key->is_string())
        refuse_control_characters(key->get_ref<const std::string &>(),
                                  "backend.server_config.server_args.api_key", "is sent in an HTTP header");
    }
  }
  if (out.name.empty()) bad("backend.name", "must not be empty");
  if (out.project.empty()) bad("backend.project", "must not be empty");
}

void parse_native(const Json &n, NativeOptions &o) {
  static const char *known[] = {"validation",
                                "dialect",
                                "scheme",
                                "inference_base_url",
                                "connect_timeout_s",
                                "request_timeout_s",
                                "get_step_timeout_s",
                                "prepare_timeout_s",
                                "health_timeout_s",
                                "retries",
                                "retry_backoff_s",
                                "keepalive_idle_s",
                                "max_json_depth",
                                "max_response_bytes",
                                "ca_path",
                                "insecure_skip_tls_verify",
                                "libcurl_path",
                                "spool",
                                "spool_dir"};
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
  if (d == "auto")
    o.dialect = Dialect::Auto;
  else if (d == "0.4" || d == "0.4.x")
    o.dialect = Dialect::V04;
  else if (d == "0.5" || d == "0.5.x")
    o.dialect = Dialect::V05;
  else
    bad("native.dialect", "expected \"auto\", \"0.4\" or \"0.5\", got \"" + d + "\"");
  o.scheme = get_string(n, "scheme", p, o.scheme);
  if (o.scheme != "http" && o.scheme != "https") bad("native.scheme", "expected \"http\" or \"https\"");
  o.inference_base_url = get_string(n, "inference_base_url", p, "");
  refuse_control_characters(o.inference_base_url, "native.inference_base_url", "is a URL");
  if (o.inference_base_url.find(' ') != std::string::npos)
    bad("native.inference_base_url", "contains a space; a URL has none (write it as %20)");
  // Ranges checked on the JSON value before it is converted: a float-to-int
  // cast of an unchecked double (retries 1e300) is undefined behaviour.
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
  refuse_control_characters(o.ca_path, "native.ca_path", "is handed to libcurl");
  o.insecure_skip_tls_verify = get_bool(n, "insecure_skip_tls_verify", p, false);
  if (n.contains("libcurl_path")) {
    o.libcurl_path = get_string(n, "libcurl_path", p, "");
    const std::string problem = http::libcurl_path_problem(o.libcurl_path);
    if (!problem.empty()) bad("native.libcurl_path", problem);
  }
  o.spool = get_bool(n, "spool", p, true);
  o.spool_dir = get_string(n, "spool_dir", p, o.spool_dir);
  if (o.spool_dir.empty()) bad("native.spool_dir", "must not be empty");
  refuse_nul(o.spool_dir, "native.spool_dir");
}

}  // namespace

void check_backend_host(const std::string &host, const std::string &key) {
  if (host.empty()) bad(key, "must not be empty");
  size_t at = first_control_character(host);
  if (at != std::string::npos)
    bad(key, "contains " + control_character_at(host, at) +
                 "; expected a host name, an IPv4 address or an IPv6 address");
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']' &&
      is_ipv6(host.substr(1, host.size() - 2)))
    return;
  if (is_ipv6(host)) return;  // written without brackets: the URL gets them
  // A name made of digits and dots only is a mistyped IPv4 address, not a name.
  bool numeric = host.find_first_not_of("0123456789.") == std::string::npos;
  if (!numeric && is_host_name(host)) return;
  bad(key,
      "expected a host name (letters, digits, '-', '_' and '.'), an IPv4 address or an IPv6 address in "
      "brackets "
      "([::1]), with no port, path, query or other URL part; got something else");
}

size_t first_control_character(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

void refuse_control_characters(const std::string &value, const std::string &key, const char *because) {
  size_t at = first_control_character(value);
  if (at != std::string::npos)
    bad(key, "contains " + control_character_at(value, at) +
                 " (CR, LF, NUL and the other C0 controls and DEL "
                 "are refused: the value " +
                 because + ")");
}

void refuse_nul(const std::string &value, const std::string &key) {
  size_t at = value.find('\0');
  if (at != std::string::npos)
    bad(key, "contains a NUL byte at offset " + std::to_string(at) + " (a path cannot hold one)");
}

void refuse_duplicate_keys(std::string_view validated_json) {
  json::Scanner s(validated_json, NativeOptions::kMaxJsonDepth);
  try {
    refuse_duplicates(s, "");
  } catch (const json::SyntaxError &e) {
    throw_invalid(std::string("config: ") + e.what());
  }
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
  refuse_duplicate_keys(json_text);
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
    // Floats of ART's TrainerArgs: what pydantic reads as one is taken (NAT
    // loads YAML with PyYAML, which gives `1e-5` as the string "1e-5") and
    // stored as the number, so that the server gets what NAT would send.
    for (const char *k : {"learning_rate", "beta"}) {
      auto it = cfg.training.find(k);
      if (it == cfg.training.end() || it->is_null()) continue;
      auto v = lax_float(*it);
      if (!v || !std::isfinite(*v))
        bad(std::string("training.") + k,
            "expected a finite number, got " +
                (it->is_string()
                     ? std::string(v ? "a string that is not finite" : "a string that is not a number")
                     : type_name(*it)));
      if (!it->is_number()) *it = *v;
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
