// The plugins found on a search path: usable, shadowed and refused.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "discovery/search_path.h"
#include "loading/plugin_library.h"

namespace nat::host {

struct FoundPlugin {
  std::shared_ptr<const PluginLibrary> library;
  // The file as found in its search directory (library->path() is the
  // resolved one that was loaded).
  std::filesystem::path path;
  SearchDirectory directory;
};

// A plugin hidden by an earlier one with the same name.
struct ShadowedPlugin {
  FoundPlugin plugin;
  std::filesystem::path shadowed_by;
};

// A file or directory that was not loaded, and why.
struct RefusedEntry {
  std::filesystem::path path;
  std::string reason;
};

class PluginNotFoundError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PluginCatalog {
 public:
  explicit PluginCatalog(SearchPath search_path) : search_path_(std::move(search_path)) {}

  const SearchPath &search_path() const { return search_path_; }
  // Usable plugins, in search order, one per name.
  const std::vector<FoundPlugin> &plugins() const { return plugins_; }
  const std::vector<ShadowedPlugin> &shadowed() const { return shadowed_; }
  const std::vector<RefusedEntry> &refused() const { return refused_; }

  // The first plugin named `name` in search order, or nullptr.
  const FoundPlugin *find(const std::string &name) const;
  // The same, or a PluginNotFoundError that lists what was found, what was
  // refused and where the host looked. `wanted_by` says who asked ("the
  // config's _type").
  const FoundPlugin &require(const std::string &name, const std::string &wanted_by) const;

  // Adds a plugin; a later one with a known name becomes shadowed.
  void add(FoundPlugin plugin);
  void refuse(std::filesystem::path path, std::string reason);

 private:
  SearchPath search_path_;
  std::vector<FoundPlugin> plugins_;
  std::vector<ShadowedPlugin> shadowed_;
  std::vector<RefusedEntry> refused_;
};

// Loads every plugin on the search path: in each directory the files ending
// in the platform's shared-library suffix (".so"; ".dll" in any case on
// Windows), by name; a file reached twice (symlinks, a directory listed
// twice) is loaded once. A directory or file writable by group or others (on
// Windows: by Everyone, Users and the like, by its access control list) is
// refused, as is any file that fails to
// load or is not a plugin of this ABI; discovery goes on after each.
// Missing installed or build-tree directories are skipped silently; missing
// directories that were asked for are refused.
PluginCatalog discover_plugins(const SearchPath &search_path);

}  // namespace nat::host
