// The C ABI of a plugin .so, resolved with dlopen/dlsym as a host would, and
// small RAII helpers to drive it from tests.
#pragma once

#include <dlfcn.h>
#include <nat/trainer_adapter.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace nat::testing {

struct PluginApi {
  void *handle = nullptr;
  // clang-format off
#define NAT_FN(minor, ret, name, params) decltype(&::nat_trainer_adapter_##name) name = nullptr;
  NAT_TRAINER_ADAPTER_FUNCTIONS(NAT_FN)
#undef NAT_FN
  // clang-format on

  static const PluginApi &load(const std::string &path) {
    static PluginApi api = open(path);
    return api;
  }

  // The ART plugin under test: $NAT_TRAINER_ADAPTER_PLUGIN (set by meson),
  // else the library name for the dynamic loader's search.
  static const PluginApi &art_plugin() {
    const char *path = std::getenv("NAT_TRAINER_ADAPTER_PLUGIN");
    return load(path ? path : "libnat_trainer_adapter_openpipe_art.so");
  }

  static PluginApi open(const std::string &path) {
    PluginApi a;
    a.handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!a.handle) throw std::runtime_error(std::string("dlopen: ") + ::dlerror());
      // The plugins of this tree implement every function of the header.
      // clang-format off
#define NAT_SYM(minor, ret, name, params)                                                         \
  a.name = reinterpret_cast<decltype(a.name)>(::dlsym(a.handle, "nat_trainer_adapter_" #name)); \
  if (!a.name) throw std::runtime_error("missing symbol nat_trainer_adapter_" #name);
    NAT_TRAINER_ADAPTER_FUNCTIONS(NAT_SYM)
#undef NAT_SYM
    // clang-format on
    return a;
  }
};

// An error as a value: code and message, the C object freed at once.
struct CallResult {
  int32_t code = 0;
  std::string message;
  std::optional<std::string> out;
  bool ok() const { return code == 0; }
  nlohmann::json json() const { return nlohmann::json::parse(out.value()); }
};

class Adapter {
 public:
  Adapter(const PluginApi &api, const nlohmann::json &config) : api_(api) {
    std::string c = config.dump();
    nat_trainer_adapter_error *e = api_.create(c.data(), c.size(), &h_);
    if (e) {
      std::string m = api_.error_message(e);
      api_.error_free(e);
      throw std::runtime_error("create: " + m);
    }
  }
  ~Adapter() { api_.destroy(h_); }
  Adapter(const Adapter &) = delete;
  Adapter &operator=(const Adapter &) = delete;

  nat_trainer_adapter *handle() const { return h_; }

  CallResult initialize(const std::string &run_config = "{}") {
    return take(api_.initialize(h_, run_config.data(), run_config.size()), nullptr);
  }
  CallResult is_healthy(int32_t *healthy) { return take(api_.is_healthy(h_, healthy), nullptr); }
  CallResult submit(const std::string &collection) {
    nat_trainer_adapter_buffer *b = nullptr;
    nat_trainer_adapter_error *e = api_.submit(h_, collection.data(), collection.size(), &b);
    return take(e, b);
  }
  CallResult status(const std::string &ref) {
    nat_trainer_adapter_buffer *b = nullptr;
    nat_trainer_adapter_error *e = api_.status(h_, ref.data(), ref.size(), &b);
    return take(e, b);
  }
  CallResult wait(const std::string &ref, double poll = 0.5, double timeout = 60) {
    nat_trainer_adapter_buffer *b = nullptr;
    nat_trainer_adapter_error *e = api_.wait_until_complete(h_, ref.data(), ref.size(), poll, timeout, &b);
    return take(e, b);
  }
  CallResult cancel(const std::string &ref) { return take(api_.cancel(h_, ref.data(), ref.size()), nullptr); }
  CallResult jobs() {
    nat_trainer_adapter_buffer *b = nullptr;
    nat_trainer_adapter_error *e = api_.jobs(h_, &b);
    return take(e, b);
  }
  CallResult next_event(const std::string &ref, double timeout) {
    nat_trainer_adapter_buffer *b = nullptr;
    nat_trainer_adapter_error *e = api_.next_event(h_, ref.data(), ref.size(), timeout, &b);
    return take(e, b);
  }
  CallResult convert(const std::string &collection) {
    nat_trainer_adapter_buffer *b = nullptr;
    nat_trainer_adapter_error *e = api_.convert(h_, collection.data(), collection.size(), &b);
    return take(e, b);
  }
  CallResult resubmit(const std::string &path) {
    nat_trainer_adapter_buffer *b = nullptr;
    nat_trainer_adapter_error *e = api_.resubmit(h_, path.data(), path.size(), &b);
    return take(e, b);
  }
  CallResult log_progress(const std::string &ref, const std::string &metrics, const char *dir) {
    return take(api_.log_progress(h_, ref.data(), ref.size(), metrics.data(), metrics.size(), dir), nullptr);
  }

 private:
  CallResult take(nat_trainer_adapter_error *e, nat_trainer_adapter_buffer *b) {
    CallResult r;
    if (e) {
      r.code = api_.error_code(e);
      r.message = api_.error_message(e);
      api_.error_free(e);
    }
    if (b) {
      r.out = std::string(api_.buffer_data(b), api_.buffer_size(b));
      api_.buffer_free(b);
    }
    return r;
  }

  const PluginApi &api_;
  nat_trainer_adapter *h_ = nullptr;
};

}  // namespace nat::testing
