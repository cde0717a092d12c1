// The C boundary: every exported function of nat/trainer_adapter.h. Each is a
// short wrapper that checks its arguments, calls the C++ adapter and turns
// any exception into an error object. Nothing else lives here.
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/error.h"
#include "capi/plugin_entry.h"
#include "nat/trainer_adapter.h"

struct nat_trainer_adapter_error {
  int32_t code;
  std::string message;
};

struct nat_trainer_adapter_buffer {
  std::string data;
};

namespace {

using nat::Error;
using nat::ErrorCode;

// Out of memory must still give an error: this one is static and never freed.
nat_trainer_adapter_error g_out_of_memory{static_cast<int32_t>(ErrorCode::Internal), "out of memory"};

// Live errors and buffers, so a double free or a foreign pointer is ignored
// instead of corrupting the heap.
template <class T>
class LiveSet {
 public:
  void add(const T *p) {
    std::lock_guard<std::mutex> lock(mu_);
    live_.insert(p);
  }
  bool remove(const T *p) {
    std::lock_guard<std::mutex> lock(mu_);
    return live_.erase(p) == 1;
  }

 private:
  std::mutex mu_;
  std::unordered_set<const T *> live_;
};

LiveSet<nat_trainer_adapter_error> &live_errors() {
  static auto *set = new LiveSet<nat_trainer_adapter_error>();  // never destroyed: used until process exit
  return *set;
}
LiveSet<nat_trainer_adapter_buffer> &live_buffers() {
  static auto *set = new LiveSet<nat_trainer_adapter_buffer>();
  return *set;
}

// Adapter handles are tokens, not addresses: a destroyed handle is never
// reused, so a call after destroy is recognised and refused.
class HandleTable {
 public:
  nat_trainer_adapter *add(std::shared_ptr<nat::TrainerAdapter> adapter) {
    std::lock_guard<std::mutex> lock(mu_);
    uintptr_t token = (next_++) << 4;
    adapters_.emplace(token, std::move(adapter));
    return reinterpret_cast<nat_trainer_adapter *>(token);
  }
  std::shared_ptr<nat::TrainerAdapter> get(const nat_trainer_adapter *handle) {
    if (!handle) throw Error(ErrorCode::InvalidArgument, "adapter must not be NULL");
    std::lock_guard<std::mutex> lock(mu_);
    auto it = adapters_.find(reinterpret_cast<uintptr_t>(handle));
    if (it == adapters_.end())
      throw Error(ErrorCode::FailedPrecondition, "adapter handle is not live (destroyed, or never created)");
    return it->second;
  }
  std::shared_ptr<nat::TrainerAdapter> take(const nat_trainer_adapter *handle) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = adapters_.find(reinterpret_cast<uintptr_t>(handle));
    if (it == adapters_.end()) return nullptr;
    auto adapter = std::move(it->second);
    adapters_.erase(it);
    return adapter;
  }

 private:
  std::mutex mu_;
  uintptr_t next_ = 1;
  std::unordered_map<uintptr_t, std::shared_ptr<nat::TrainerAdapter>> adapters_;
};

HandleTable &handles() {
  static auto *table = new HandleTable();
  return *table;
}

nat_trainer_adapter_error *make_error(ErrorCode code, const char *message) noexcept {
  try {
    // Valid UTF-8 without NUL, whatever the message quotes (nat::Error's are
    // already; a standard exception's what() may not be).
    auto *e = new nat_trainer_adapter_error{static_cast<int32_t>(code), nat::text::printable_text(message)};
    live_errors().add(e);
    return e;
  } catch (...) {
    return &g_out_of_memory;
  }
}

template <class F>
nat_trainer_adapter_error *guarded(F &&fn) noexcept {
  try {
    fn();
    return nullptr;
  } catch (const Error &e) {
    return make_error(e.code(), e.what());
  } catch (const std::bad_alloc &) {
    return &g_out_of_memory;
  } catch (const std::exception &e) {
    return make_error(ErrorCode::Internal, e.what());
  } catch (...) {
    return make_error(ErrorCode::Internal, "unknown internal error");
  }
}

std::string_view input(const char *data, size_t len, const char *name) {
  if (!data && len > 0)
    throw Error(ErrorCode::InvalidArgument, std::string(name) + " is NULL but its length is not 0");
  return data ? std::string_view(data, len) : std::string_view();
}

template <class T>
void require_out(T **out, const char *name) {
  if (!out) throw Error(ErrorCode::InvalidArgument, std::string(name) + " must not be NULL");
  *out = nullptr;
}

nat_trainer_adapter_buffer *make_buffer(std::string data) {
  auto *b = new nat_trainer_adapter_buffer{std::move(data)};
  live_buffers().add(b);
  return b;
}

}  // namespace

#ifndef NAT_TRAINER_ADAPTER_VERSION
#define NAT_TRAINER_ADAPTER_VERSION "0.0.0"
#endif

namespace nat::plugin {

// The texts are the plugins' own literals: plain text needing no JSON escape.
std::string make_info_json(std::string_view name, std::string_view backend, std::string_view description,
                           const std::string &config_schema) {
  std::string info = "{\"name\":\"";
  info.append(name).append("\",\"backend\":\"").append(backend);
  info.append("\",\"version\":\"" NAT_TRAINER_ADAPTER_VERSION
              "\",\"abi\":\"" NAT_TRAINER_ADAPTER_ABI_VERSION_STRING "\",\"description\":\"");
  info.append(description).append("\",\"config_schema\":").append(config_schema).append("}");
  return info;
}

}  // namespace nat::plugin

extern "C" {

uint32_t nat_trainer_adapter_abi_version(void) { return NAT_TRAINER_ADAPTER_ABI_VERSION; }

const char *nat_trainer_adapter_plugin_info(void) {
  try {
    return nat::plugin::info_json();
  } catch (...) {
    return "{\"name\":\"unknown\",\"abi\":\"" NAT_TRAINER_ADAPTER_ABI_VERSION_STRING "\"}";
  }
}

int32_t nat_trainer_adapter_error_code(const nat_trainer_adapter_error *error) {
  return error ? error->code : static_cast<int32_t>(ErrorCode::Ok);
}

const char *nat_trainer_adapter_error_message(const nat_trainer_adapter_error *error) {
  return error ? error->message.c_str() : "";
}

void nat_trainer_adapter_error_free(nat_trainer_adapter_error *error) {
  if (!error || error == &g_out_of_memory) return;
  if (live_errors().remove(error)) delete error;
}

const char *nat_trainer_adapter_buffer_data(const nat_trainer_adapter_buffer *buffer) {
  return buffer ? buffer->data.c_str() : "";
}

size_t nat_trainer_adapter_buffer_size(const nat_trainer_adapter_buffer *buffer) {
  return buffer ? buffer->data.size() : 0;
}

void nat_trainer_adapter_buffer_free(nat_trainer_adapter_buffer *buffer) {
  if (buffer && live_buffers().remove(buffer)) delete buffer;
}

nat_trainer_adapter_error *nat_trainer_adapter_create(const char *config_json, size_t config_len,
                                                      nat_trainer_adapter **out_adapter) {
  return guarded([&] {
    require_out(out_adapter, "out_adapter");
    std::shared_ptr<nat::TrainerAdapter> adapter =
        nat::plugin::create_adapter(input(config_json, config_len, "config_json"));
    *out_adapter = handles().add(std::move(adapter));
  });
}

void nat_trainer_adapter_destroy(nat_trainer_adapter *adapter) {
  if (!adapter) return;
  try {
    std::shared_ptr<nat::TrainerAdapter> a = handles().take(adapter);
    if (a) a->shutdown();
  } catch (...) {
    // Nothing may escape; shutdown failures leave nothing to report to.
  }
}

nat_trainer_adapter_error *nat_trainer_adapter_initialize(nat_trainer_adapter *adapter,
                                                          const char *run_config_json,
                                                          size_t run_config_len) {
  return guarded(
      [&] { handles().get(adapter)->initialize(input(run_config_json, run_config_len, "run_config_json")); });
}

nat_trainer_adapter_error *nat_trainer_adapter_is_healthy(nat_trainer_adapter *adapter,
                                                          int32_t *out_healthy) {
  return guarded([&] {
    if (!out_healthy) throw Error(ErrorCode::InvalidArgument, "out_healthy must not be NULL");
    *out_healthy = 0;
    *out_healthy = handles().get(adapter)->is_healthy() ? 1 : 0;
  });
}

nat_trainer_adapter_error *nat_trainer_adapter_submit(nat_trainer_adapter *adapter,
                                                      const char *collection_json, size_t collection_len,
                                                      nat_trainer_adapter_buffer **out_job_ref) {
  return guarded([&] {
    require_out(out_job_ref, "out_job_ref");
    auto a = handles().get(adapter);
    *out_job_ref = make_buffer(a->submit(input(collection_json, collection_len, "collection_json")));
  });
}

nat_trainer_adapter_error *nat_trainer_adapter_status(nat_trainer_adapter *adapter, const char *job_ref_json,
                                                      size_t job_ref_len,
                                                      nat_trainer_adapter_buffer **out_status) {
  return guarded([&] {
    require_out(out_status, "out_status");
    auto a = handles().get(adapter);
    *out_status = make_buffer(a->status(input(job_ref_json, job_ref_len, "job_ref_json")));
  });
}

nat_trainer_adapter_error *nat_trainer_adapter_wait_until_complete(nat_trainer_adapter *adapter,
                                                                   const char *job_ref_json,
                                                                   size_t job_ref_len, double poll_interval_s,
                                                                   double timeout_s,
                                                                   nat_trainer_adapter_buffer **out_status) {
  return guarded([&] {
    require_out(out_status, "out_status");
    auto a = handles().get(adapter);
    *out_status = make_buffer(
        a->wait_until_complete(input(job_ref_json, job_ref_len, "job_ref_json"), poll_interval_s, timeout_s));
  });
}

nat_trainer_adapter_error *nat_trainer_adapter_cancel(nat_trainer_adapter *adapter, const char *job_ref_json,
                                                      size_t job_ref_len) {
  return guarded([&] { handles().get(adapter)->cancel(input(job_ref_json, job_ref_len, "job_ref_json")); });
}

nat_trainer_adapter_error *nat_trainer_adapter_jobs(nat_trainer_adapter *adapter,
                                                    nat_trainer_adapter_buffer **out_jobs) {
  return guarded([&] {
    require_out(out_jobs, "out_jobs");
    auto a = handles().get(adapter);
    *out_jobs = make_buffer(a->jobs());
  });
}

nat_trainer_adapter_error *nat_trainer_adapter_next_event(nat_trainer_adapter *adapter,
                                                          const char *job_ref_json, size_t job_ref_len,
                                                          double timeout_s,
                                                          nat_trainer_adapter_buffer **out_event_or_null) {
  return guarded([&] {
    require_out(out_event_or_null, "out_event_or_null");
    auto a = handles().get(adapter);
    auto ev = a->next_event(input(job_ref_json, job_ref_len, "job_ref_json"), timeout_s);
    if (ev) *out_event_or_null = make_buffer(std::move(*ev));
  });
}

nat_trainer_adapter_error *nat_trainer_adapter_log_progress(nat_trainer_adapter *adapter,
                                                            const char *job_ref_json, size_t job_ref_len,
                                                            const char *metrics_json, size_t metrics_len,
                                                            const char *output_dir_or_null) {
  return guarded([&] {
    auto a = handles().get(adapter);
    a->log_progress(input(job_ref_json, job_ref_len, "job_ref_json"),
                    input(metrics_json, metrics_len, "metrics_json"), output_dir_or_null);
  });
}

nat_trainer_adapter_error *nat_trainer_adapter_convert(nat_trainer_adapter *adapter,
                                                       const char *collection_json, size_t collection_len,
                                                       nat_trainer_adapter_buffer **out_body) {
  return guarded([&] {
    require_out(out_body, "out_body");
    auto a = handles().get(adapter);
    *out_body = make_buffer(a->convert(input(collection_json, collection_len, "collection_json")));
  });
}

nat_trainer_adapter_error *nat_trainer_adapter_resubmit(nat_trainer_adapter *adapter, const char *spool_path,
                                                        size_t spool_path_len,
                                                        nat_trainer_adapter_buffer **out_job_ref) {
  return guarded([&] {
    require_out(out_job_ref, "out_job_ref");
    std::string path(input(spool_path, spool_path_len, "spool_path"));
    if (path.empty()) throw Error(ErrorCode::InvalidArgument, "spool_path must not be empty");
    if (path.find('\0') != std::string::npos)
      throw Error(ErrorCode::InvalidArgument, "spool_path contains a NUL byte");
    auto a = handles().get(adapter);
    *out_job_ref = make_buffer(a->resubmit(path));
  });
}

nat_trainer_adapter_error *nat_trainer_adapter_spooled(nat_trainer_adapter *adapter, const char *spool_dir,
                                                       size_t spool_dir_len,
                                                       nat_trainer_adapter_buffer **out_json) {
  return guarded([&] {
    require_out(out_json, "out_json");
    std::optional<std::string> dir;
    if (spool_dir) {
      dir.emplace(spool_dir, spool_dir_len);
      if (dir->empty())
        throw Error(ErrorCode::InvalidArgument, "spool_dir must not be empty (NULL lists the adapter's own)");
      if (dir->find('\0') != std::string::npos)
        throw Error(ErrorCode::InvalidArgument, "spool_dir contains a NUL byte");
    }
    auto a = handles().get(adapter);
    *out_json = make_buffer(a->spooled(dir));
  });
}

}  // extern "C"
