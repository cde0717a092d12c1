#include "command_line/spool_listing.h"

#include <stdexcept>

#include "adapter/adapter_error.h"

namespace nat::host {

namespace {

namespace fs = std::filesystem;

std::string origin_text(const std::string &source, const std::string &config_origin,
                        const std::string &plugin) {
  if (source == "argument") return "--spool-dir";
  if (source == "config") return config_origin + ": native.spool_dir";
  return "the default native.spool_dir of " + plugin;
}

SpooledFile read_file_entry(const nlohmann::json &item) {
  SpooledFile file;
  file.path = item.at("path").get<std::string>();
  file.ready = item.at("state").get<std::string>() == "ready";
  file.bytes = item.at("bytes").get<std::uintmax_t>();
  const long long ns = item.at("modified_unix_ns").get<long long>();
  file.modified.tv_sec = static_cast<time_t>(ns / 1000000000);
  file.modified.tv_nsec = static_cast<long>(ns % 1000000000);
  if (item.contains("writer_pid")) {
    file.run = item.at("run_id").get<std::string>();
    file.submitted_ms = item.at("submitted_unix_ms").get<long long>();
    file.writer_pid = item.at("writer_pid").get<long>();
    file.writer_running = item.at("writer_running").get<bool>();
  }
  return file;
}

}  // namespace

SpoolListing read_spool_listing(const nlohmann::json &reply, const std::string &config_origin,
                                const std::string &plugin_name) {
  try {
    SpoolListing listing;
    listing.directory = reply.at("spool_dir").get<std::string>();
    listing.origin = origin_text(reply.at("spool_dir_source").get<std::string>(), config_origin, plugin_name);
    listing.spooling = reply.at("spooling").get<bool>();
    listing.exists = reply.at("exists").get<bool>();
    for (const nlohmann::json &item : reply.at("collections")) {
      listing.files.push_back(read_file_entry(item));
    }
    return listing;
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error("plugin " + plugin_name +
                             " listed its spool in a form nat-trainer does not read: " + e.what());
  }
}

SpoolListing list_spooled(Adapter &adapter, const std::string &config_origin,
                          const std::optional<fs::path> &spool_dir) {
  const PluginLibrary &plugin = adapter.plugin();
  const std::string described = plugin.name() + " (" + plugin.path().string() + ")";
  if (!adapter.can_list_spool()) {
    throw std::runtime_error(config_origin + ": plugin " + described + ": its ABI " +
                             abi_version_text(plugin.abi_version()) +
                             " has no spool listing (nat_trainer_adapter_spooled came with ABI 1.1)");
  }
  nlohmann::json reply;
  try {
    reply = adapter.spooled(spool_dir);
  } catch (const AdapterError &e) {
    if (e.code() != NAT_TRAINER_ADAPTER_FAILED_PRECONDITION) throw;
    throw std::runtime_error(config_origin + ": plugin " + described + " has no spool: " + e.message());
  }
  return read_spool_listing(reply, config_origin, plugin.name());
}

const SpooledFile *find_spooled(const SpoolListing &listing, const fs::path &file) {
  std::error_code error;
  const fs::path wanted = fs::weakly_canonical(file, error);
  if (error) return nullptr;
  for (const SpooledFile &entry : listing.files) {
    std::error_code entry_error;
    if (fs::weakly_canonical(entry.path, entry_error) == wanted && !entry_error) return &entry;
  }
  return nullptr;
}

}  // namespace nat::host
