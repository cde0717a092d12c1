#include "discovery/plugin_catalog.h"

#include <algorithm>
#include <string>
#include <unordered_set>

#include "platform/platform.h"

namespace nat::host {
namespace {

using platform::FileStatus;

struct LibraryFile {
  std::filesystem::path path;
  // A symlink, or a file system that did not say (readdir's DT_UNKNOWN):
  // resolved on its own. Any other file resolves to the resolved directory
  // plus its name.
  bool resolve_alone = true;
};

std::vector<LibraryFile> library_files(const std::filesystem::path &directory, std::string &error) {
  std::vector<LibraryFile> files;
  std::error_code code;
  std::filesystem::directory_iterator it(directory, code);
  for (; !code && it != std::filesystem::directory_iterator(); it.increment(code)) {
    if (platform::same_name(it->path().extension().string(), platform::kSharedLibrarySuffix)) {
      // The type readdir reported, without a stat where it did.
      std::error_code type_error;
      const bool link = it->is_symlink(type_error);
      files.push_back({it->path(), link || type_error});
    }
  }
  if (code) {
    error = code.message();
  }
  std::sort(files.begin(), files.end(),
            [](const LibraryFile &a, const LibraryFile &b) { return a.path < b.path; });
  return files;
}

void scan_directory(const SearchDirectory &directory, PluginCatalog &catalog,
                    std::unordered_set<std::filesystem::path::string_type> &loaded) {
  // Whoever can write a plugin file, or its directory, runs code in every
  // nat-trainer process that searches there.
  const FileStatus status = platform::file_status(directory.path);
  if (status.kind == FileStatus::Kind::missing || status.kind == FileStatus::Kind::unreadable) {
    const bool asked_for =
        directory.origin == SearchOrigin::command_line || directory.origin == SearchOrigin::environment;
    if (status.kind != FileStatus::Kind::missing || asked_for) {
      catalog.refuse(directory.path, "plugin directory (" + origin_label(directory.origin) +
                                         ") cannot be read: " + status.error);
    }
    return;
  }
  if (status.kind != FileStatus::Kind::directory) {
    catalog.refuse(directory.path,
                   "plugin directory (" + origin_label(directory.origin) + ") is not a directory");
    return;
  }
  if (status.writable_by_others) {
    catalog.refuse(directory.path,
                   "plugin directory is " + *status.writable_by_others + "; none of its plugins are loaded");
    return;
  }

  std::string list_error;
  std::vector<LibraryFile> files = library_files(directory.path, list_error);
  if (!list_error.empty()) {
    catalog.refuse(directory.path, "cannot list plugin directory: " + list_error);
  }
  // Resolved once for the directory rather than through every component for
  // each file (canonical() reads each component's link).
  std::error_code directory_error;
  const std::filesystem::path real_directory = std::filesystem::canonical(directory.path, directory_error);
  for (const auto &[file, resolve_alone] : files) {
    std::error_code error;
    const std::filesystem::path real_path = resolve_alone || directory_error
                                                ? std::filesystem::canonical(file, error)
                                                : real_directory / file.filename();
    if (error) {
      catalog.refuse(file, "cannot resolve path: " + error.message());
      continue;
    }
    if (!loaded.insert(real_path.native()).second) {
      continue;
    }
    const FileStatus file_status = platform::file_status(real_path);
    if (file_status.kind == FileStatus::Kind::missing || file_status.kind == FileStatus::Kind::unreadable) {
      catalog.refuse(file, "cannot stat: " + file_status.error);
      continue;
    }
    if (file_status.kind != FileStatus::Kind::regular) {
      catalog.refuse(file, "not a regular file");
      continue;
    }
    if (file_status.writable_by_others) {
      catalog.refuse(file, "plugin file is " + *file_status.writable_by_others + "; not loaded");
      continue;
    }
    if (!platform::may_be_plugin(real_path, "nat_trainer_adapter_abi_version")) {
      continue;
    }
    try {
      catalog.add(FoundPlugin{PluginLibrary::load(real_path), file, directory});
    } catch (const PluginLoadError &e) {
      catalog.refuse(file, e.what());
    }
  }
}

}  // namespace

const FoundPlugin *PluginCatalog::find(const std::string &name) const {
  for (const auto &plugin : plugins_) {
    if (platform::same_name(plugin.library->name(), name)) {
      return &plugin;
    }
  }
  return nullptr;
}

const FoundPlugin &PluginCatalog::require(const std::string &name, const std::string &wanted_by) const {
  if (const FoundPlugin *plugin = find(name)) {
    return *plugin;
  }
  std::string message = "no trainer adapter plugin named '" + name + "' (" + wanted_by + ")";
  std::string names;
  for (const auto &plugin : plugins_) {
    names += (names.empty() ? "" : ", ") + plugin.library->name();
  }
  message += names.empty() ? "; no plugins were found" : "; found: " + names;
  for (const auto &entry : refused_) {
    message += "\n  refused " + entry.path.string() + ": " + entry.reason;
  }
  message += "\n  searched:";
  for (const auto &directory : search_path_.directories) {
    message += " " + directory.path.string() + " (" + origin_label(directory.origin) + ")";
  }
  for (const auto &note : search_path_.notes) {
    message += "\n  " + note;
  }
  throw PluginNotFoundError(message);
}

void PluginCatalog::add(FoundPlugin plugin) {
  if (const FoundPlugin *winner = find(plugin.library->name())) {
    shadowed_.push_back(ShadowedPlugin{std::move(plugin), winner->path});
    return;
  }
  plugins_.push_back(std::move(plugin));
}

void PluginCatalog::refuse(std::filesystem::path path, std::string reason) {
  refused_.push_back(RefusedEntry{std::move(path), std::move(reason)});
}

PluginCatalog discover_plugins(const SearchPath &search_path) {
  PluginCatalog catalog(search_path);
  std::unordered_set<std::filesystem::path::string_type> loaded;
  for (const auto &directory : search_path.directories) {
    scan_directory(directory, catalog, loaded);
  }
  return catalog;
}

}  // namespace nat::host
