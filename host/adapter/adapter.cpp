#include "adapter/adapter.h"

#include <nat/trainer_adapter.h>

#include "adapter/adapter_error.h"

namespace nat::host {

PluginBuffer::~PluginBuffer() {
  if (buffer_ != nullptr) {
    abi_->buffer_free(buffer_);
  }
}

std::string_view PluginBuffer::view() const {
  if (buffer_ == nullptr) {
    return {};
  }
  const char *data = abi_->buffer_data(buffer_);
  return data != nullptr ? std::string_view(data, abi_->buffer_size(buffer_)) : std::string_view();
}

Adapter::Adapter(std::shared_ptr<const PluginLibrary> plugin, const nlohmann::json &config)
    : plugin_(std::move(plugin)), abi_(plugin_->functions()) {
  const std::string text = config.dump();
  nat_trainer_adapter *handle = nullptr;
  check(abi_.create(text.data(), text.size(), &handle), "create");
  if (handle == nullptr) {
    throw AdapterError(NAT_TRAINER_ADAPTER_INTERNAL, "create succeeded without returning an adapter",
                       plugin_->name(), "create");
  }
  handle_ = handle;
}

Adapter::~Adapter() { abi_.destroy(handle_); }

void Adapter::check(nat_trainer_adapter_error *error, const char *operation) const {
  if (error == nullptr) {
    return;
  }
  const std::int32_t code = abi_.error_code(error);
  const char *message = abi_.error_message(error);
  std::string text = message != nullptr ? message : "";
  abi_.error_free(error);
  throw AdapterError(code, text, plugin_->name(), operation);
}

std::string Adapter::take_text(nat_trainer_adapter_buffer *buffer) const {
  const char *data = abi_.buffer_data(buffer);
  std::string text(data != nullptr ? data : "", data != nullptr ? abi_.buffer_size(buffer) : 0);
  abi_.buffer_free(buffer);
  return text;
}

nlohmann::json Adapter::take_json(nat_trainer_adapter_buffer *buffer, const char *operation) const {
  const std::string text = take_text(buffer);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw AdapterError(NAT_TRAINER_ADAPTER_INTERNAL,
                       std::string("the plugin returned invalid JSON: ") + e.what(), plugin_->name(),
                       operation);
  }
}

void Adapter::initialize(const nlohmann::json &finetune_config) {
  const std::string text = finetune_config.dump();
  check(abi_.initialize(handle_, text.data(), text.size()), "initialize");
}

bool Adapter::is_healthy() {
  std::int32_t healthy = 0;
  check(abi_.is_healthy(handle_, &healthy), "is_healthy");
  return healthy != 0;
}

nlohmann::json Adapter::submit(std::string_view collection_json) {
  nat_trainer_adapter_buffer *job_ref = nullptr;
  check(abi_.submit(handle_, collection_json.data(), collection_json.size(), &job_ref), "submit");
  return take_json(job_ref, "submit");
}

nlohmann::json Adapter::status(const nlohmann::json &job_ref) {
  const std::string ref = job_ref.dump();
  nat_trainer_adapter_buffer *status = nullptr;
  check(abi_.status(handle_, ref.data(), ref.size(), &status), "status");
  return take_json(status, "status");
}

nlohmann::json Adapter::wait_until_complete(const nlohmann::json &job_ref, double poll_interval_s,
                                            double timeout_s) {
  const std::string ref = job_ref.dump();
  nat_trainer_adapter_buffer *status = nullptr;
  check(abi_.wait_until_complete(handle_, ref.data(), ref.size(), poll_interval_s, timeout_s, &status),
        "wait_until_complete");
  return take_json(status, "wait_until_complete");
}

void Adapter::cancel(const nlohmann::json &job_ref) {
  const std::string ref = job_ref.dump();
  check(abi_.cancel(handle_, ref.data(), ref.size()), "cancel");
}

nlohmann::json Adapter::jobs() {
  nat_trainer_adapter_buffer *jobs = nullptr;
  check(abi_.jobs(handle_, &jobs), "jobs");
  return take_json(jobs, "jobs");
}

std::optional<nlohmann::json> Adapter::next_event(const nlohmann::json &job_ref, double timeout_s) {
  const std::string ref = job_ref.dump();
  nat_trainer_adapter_buffer *event = nullptr;
  check(abi_.next_event(handle_, ref.data(), ref.size(), timeout_s, &event), "next_event");
  if (event == nullptr) {
    return std::nullopt;
  }
  return take_json(event, "next_event");
}

void Adapter::log_progress(const nlohmann::json &job_ref, const nlohmann::json &metrics,
                           const std::optional<std::filesystem::path> &output_dir) {
  const std::string ref = job_ref.dump();
  const std::string metrics_text = metrics.dump();
  const std::string dir = output_dir ? output_dir->string() : std::string();
  check(abi_.log_progress(handle_, ref.data(), ref.size(), metrics_text.data(), metrics_text.size(),
                          output_dir ? dir.c_str() : nullptr),
        "log_progress");
}

nlohmann::json Adapter::resubmit(const std::filesystem::path &spool_file) {
  if (abi_.resubmit == nullptr) {
    throw AdapterError(NAT_TRAINER_ADAPTER_FAILED_PRECONDITION,
                       "the plugin's ABI " + abi_version_text(plugin_->abi_version()) +
                           " has no nat_trainer_adapter_resubmit (" + plugin_->path().string() + ")",
                       plugin_->name(), "resubmit");
  }
  const std::string path = spool_file.string();
  nat_trainer_adapter_buffer *job_ref = nullptr;
  check(abi_.resubmit(handle_, path.data(), path.size(), &job_ref), "resubmit");
  return take_json(job_ref, "resubmit");
}

nlohmann::json Adapter::spooled(const std::optional<std::filesystem::path> &spool_dir) {
  if (abi_.spooled == nullptr) {
    throw AdapterError(NAT_TRAINER_ADAPTER_FAILED_PRECONDITION,
                       "the plugin's ABI " + abi_version_text(plugin_->abi_version()) +
                           " has no nat_trainer_adapter_spooled (" + plugin_->path().string() + ")",
                       plugin_->name(), "spooled");
  }
  const std::string dir = spool_dir ? spool_dir->string() : std::string();
  nat_trainer_adapter_buffer *listing = nullptr;
  check(abi_.spooled(handle_, spool_dir ? dir.c_str() : nullptr, dir.size(), &listing), "spooled");
  return take_json(listing, "spooled");
}

std::string Adapter::convert(std::string_view collection_json) {
  return std::string(convert_in_place(collection_json).view());
}

PluginBuffer Adapter::convert_in_place(std::string_view collection_json) {
  nat_trainer_adapter_buffer *body = nullptr;
  check(abi_.convert(handle_, collection_json.data(), collection_json.size(), &body), "convert");
  return PluginBuffer(abi_, body);
}

}  // namespace nat::host
