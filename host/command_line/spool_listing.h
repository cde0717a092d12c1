// The spooled collections of an adapter, as its plugin lists them
// (nat_trainer_adapter_spooled, ABI 1.1): the host reads no spool file name
// and no config default of its own.
#pragma once

#include <time.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adapter/adapter.h"

namespace nat::host {

struct SpooledFile {
  std::filesystem::path path;
  // false: a file its writer stopped writing; nothing of it was sent, and it
  // cannot be resubmitted.
  bool ready = true;
  std::uintmax_t bytes = 0;
  struct timespec modified {};
  // What the plugin read from the file's name; writer_pid is 0 when the name
  // is not the one the spool gives (a file put there by hand).
  std::string run;
  long long submitted_ms = 0;
  long writer_pid = 0;
  bool writer_running = false;
};

struct SpoolListing {
  std::filesystem::path directory;
  // Why this directory: "--spool-dir", "<config origin>: native.spool_dir" or
  // "the default native.spool_dir of <plugin>".
  std::string origin;
  // Whether new submits are spooled (native.spool of the adapter config).
  bool spooling = true;
  bool exists = false;
  // Oldest modification first, complete and incomplete files mixed.
  std::vector<SpooledFile> files;
};

// The plugin's JSON reply read into a listing. `config_origin` names the
// adapter config ("file: trainer_adapters.x"), `plugin_name` the plugin, for
// the origin text. Throws std::runtime_error naming the plugin when the
// reply is not of the documented form.
SpoolListing read_spool_listing(const nlohmann::json &reply, const std::string &config_origin,
                                const std::string &plugin_name);

// Lists the adapter's spool directory, or `spool_dir` when given. Throws
// std::runtime_error, naming the plugin and `config_origin`, for a plugin of
// ABI 1.0 (no listing) or one that keeps no spool; AdapterError for the
// plugin's other errors.
SpoolListing list_spooled(Adapter &adapter, const std::string &config_origin,
                          const std::optional<std::filesystem::path> &spool_dir);

// The entry of the listing that is `file` (compared with symlinks and ".."
// resolved), or nullptr.
const SpooledFile *find_spooled(const SpoolListing &listing, const std::filesystem::path &file);

}  // namespace nat::host
