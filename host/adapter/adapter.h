// One adapter instance of a plugin, driven through the C ABI.
#pragma once

#include <nat/trainer_adapter.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "loading/plugin_library.h"

namespace nat::host {

// A buffer returned by a plugin, owned: freed with the plugin's
// nat_trainer_adapter_buffer_free on destruction. Lets a caller use a large
// result (convert's body) in place instead of copying it. Move-only.
class PluginBuffer {
 public:
  PluginBuffer(const AbiFunctions &abi, nat_trainer_adapter_buffer *buffer) : abi_(&abi), buffer_(buffer) {}
  ~PluginBuffer();
  PluginBuffer(PluginBuffer &&other) noexcept : abi_(other.abi_), buffer_(other.buffer_) {
    other.buffer_ = nullptr;
  }
  PluginBuffer &operator=(PluginBuffer &&) = delete;
  PluginBuffer(const PluginBuffer &) = delete;
  PluginBuffer &operator=(const PluginBuffer &) = delete;

  // The bytes, valid while this object lives; empty for a null buffer.
  std::string_view view() const;

 private:
  const AbiFunctions *abi_;
  nat_trainer_adapter_buffer *buffer_;
};

// Owns a nat_trainer_adapter handle: created in the constructor, destroyed
// in the destructor (which cancels the adapter's running jobs). Every
// failure is an AdapterError carrying the ABI code and message. JSON results
// of the plugin are parsed; a plugin returning invalid JSON is an INTERNAL
// AdapterError. Thread-safe as the ABI is, except destruction.
class Adapter {
 public:
  // nat_trainer_adapter_create(config).
  Adapter(std::shared_ptr<const PluginLibrary> plugin, const nlohmann::json &config);
  ~Adapter();
  Adapter(const Adapter &) = delete;
  Adapter &operator=(const Adapter &) = delete;

  const PluginLibrary &plugin() const { return *plugin_; }

  void initialize(const nlohmann::json &finetune_config);
  bool is_healthy();
  // Returns the TrainingJobRef.
  nlohmann::json submit(std::string_view collection_json);
  nlohmann::json status(const nlohmann::json &job_ref);
  nlohmann::json wait_until_complete(const nlohmann::json &job_ref, double poll_interval_s, double timeout_s);
  void cancel(const nlohmann::json &job_ref);
  nlohmann::json jobs();
  // The next event, or nullopt when none came within timeout_s or the final
  // one was already delivered.
  std::optional<nlohmann::json> next_event(const nlohmann::json &job_ref, double timeout_s);
  void log_progress(const nlohmann::json &job_ref, const nlohmann::json &metrics,
                    const std::optional<std::filesystem::path> &output_dir);
  // What submit would send, as the plugin returns it (not necessarily JSON).
  std::string convert(std::string_view collection_json);
  // The same in the plugin's own buffer, not copied: the body is about the
  // size of the collection.
  PluginBuffer convert_in_place(std::string_view collection_json);
  // Whether the plugin has nat_trainer_adapter_resubmit (ABI 1.1).
  bool can_resubmit() const { return abi_.resubmit != nullptr; }
  // nat_trainer_adapter_resubmit: submits a spooled collection again; returns
  // the TrainingJobRef. A plugin without the function gives a
  // FAILED_PRECONDITION AdapterError.
  nlohmann::json resubmit(const std::filesystem::path &spool_file);
  // Whether the plugin has nat_trainer_adapter_spooled (ABI 1.1).
  bool can_list_spool() const { return abi_.spooled != nullptr; }
  // nat_trainer_adapter_spooled: the collections in `spool_dir`, or in the
  // adapter's own spool directory, as the plugin lists them (its JSON). A
  // plugin without the function gives a FAILED_PRECONDITION AdapterError, as
  // does one that keeps no spool.
  nlohmann::json spooled(const std::optional<std::filesystem::path> &spool_dir);

 private:
  void check(nat_trainer_adapter_error *error, const char *operation) const;
  std::string take_text(nat_trainer_adapter_buffer *buffer) const;
  nlohmann::json take_json(nat_trainer_adapter_buffer *buffer, const char *operation) const;

  std::shared_ptr<const PluginLibrary> plugin_;
  const AbiFunctions &abi_;
  nat_trainer_adapter *handle_ = nullptr;
};

}  // namespace nat::host
