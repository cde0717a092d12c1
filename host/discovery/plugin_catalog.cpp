#include "discovery/plugin_catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_set>

namespace nat::host {
namespace {

constexpr const char *kSharedLibrarySuffix = ".so";

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Whoever can write a plugin file, or its directory, runs code in every
// nat-trainer process that searches there.
bool writable_by_others(const struct stat &status) { return (status.st_mode & (S_IWGRP | S_IWOTH)) != 0; }

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
    if (it->path().extension() == kSharedLibrarySuffix) {
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
                    std::unordered_set<std::string> &loaded) {
  struct stat status {};
  if (::stat(directory.path.c_str(), &status) != 0) {
    const bool asked_for =
        directory.origin == SearchOrigin::command_line || directory.origin == SearchOrigin::environment;
    if (errno != ENOENT || asked_for) {
      catalog.refuse(directory.path, "plugin directory (" + origin_label(directory.origin) +
                                         ") cannot be read: " + std::strerror(errno));
    }
    return;
  }
  if (!S_ISDIR(status.st_mode)) {
    catalog.refuse(directory.path,
                   "plugin directory (" + origin_label(directory.origin) + ") is not a directory");
    return;
  }
  if (writable_by_others(status)) {
    catalog.refuse(directory.path, "plugin directory is writable by group or others (mode " +
                                       octal_mode(status.st_mode) + "); none of its plugins are loaded");
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
    struct stat file_status {};
    if (::stat(real_path.c_str(), &file_status) != 0) {
      catalog.refuse(file, std::string("cannot stat: ") + std::strerror(errno));
      continue;
    }
    if (!S_ISREG(file_status.st_mode)) {
      catalog.refuse(file, "not a regular file");
      continue;
    }
    if (writable_by_others(file_status)) {
      catalog.refuse(file, "plugin file is writable by group or others (mode " +
                               octal_mode(file_status.st_mode) + "); not loaded");
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
    if (plugin.library->name() == name) {
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
  std::unordered_set<std::string> loaded;
  for (const auto &directory : search_path.directories) {
    scan_directory(directory, catalog, loaded);
  }
  return catalog;
}

}  // namespace nat::host
