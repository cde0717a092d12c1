#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command_line/commands.h"
#include "command_line/configured_adapter.h"

namespace nat::host {
namespace {

struct Row {
  std::string name, version, abi, backend, path;
};

Row row_of(const FoundPlugin &plugin) {
  const PluginLibrary &library = *plugin.library;
  return {library.name(), library.info_text("version"), abi_version_text(library.abi_version()),
          library.info_text("backend"), plugin.path.string()};
}

nlohmann::json json_of(const FoundPlugin &plugin) {
  const PluginLibrary &library = *plugin.library;
  return {{"name", library.name()},
          {"version", library.info_text("version")},
          {"abi", abi_version_text(library.abi_version())},
          {"backend", library.info_text("backend")},
          {"description", library.info_text("description")},
          {"path", plugin.path.string()},
          {"loaded_from", library.path().string()},
          {"directory", plugin.directory.path.string()},
          {"origin", origin_label(plugin.directory.origin)}};
}

void print_table(const std::vector<Row> &rows) {
  Row widths{"NAME", "VERSION", "ABI", "BACKEND", "PATH"};
  std::vector<Row> all{widths};
  all.insert(all.end(), rows.begin(), rows.end());
  std::size_t w[4] = {0, 0, 0, 0};
  for (const Row &row : all) {
    w[0] = std::max(w[0], row.name.size());
    w[1] = std::max(w[1], row.version.size());
    w[2] = std::max(w[2], row.abi.size());
    w[3] = std::max(w[3], row.backend.size());
  }
  for (const Row &row : all) {
    auto cell = [](const std::string &text, std::size_t width) {
      return text + std::string(width - text.size() + 2, ' ');
    };
    std::cout << cell(row.name, w[0]) << cell(row.version, w[1]) << cell(row.abi, w[2])
              << cell(row.backend, w[3]) << row.path << "\n";
  }
}

std::string directory_state(const std::filesystem::path &directory) {
  std::error_code error;
  return std::filesystem::is_directory(directory, error) ? "" : ", missing";
}

int list_plugins(const GlobalOptions &global, bool as_json) {
  const PluginCatalog catalog = discover_plugins_for(global);

  if (as_json) {
    nlohmann::json out = {{"plugins", nlohmann::json::array()},
                          {"shadowed", nlohmann::json::array()},
                          {"refused", nlohmann::json::array()},
                          {"search_path", nlohmann::json::array()},
                          {"notes", catalog.search_path().notes}};
    for (const auto &plugin : catalog.plugins()) {
      out["plugins"].push_back(json_of(plugin));
    }
    for (const auto &shadowed : catalog.shadowed()) {
      nlohmann::json entry = json_of(shadowed.plugin);
      entry["shadowed_by"] = shadowed.shadowed_by.string();
      out["shadowed"].push_back(entry);
    }
    for (const auto &refused : catalog.refused()) {
      out["refused"].push_back({{"path", refused.path.string()}, {"reason", refused.reason}});
    }
    for (const auto &directory : catalog.search_path().directories) {
      std::error_code error;
      out["search_path"].push_back({{"path", directory.path.string()},
                                    {"origin", origin_label(directory.origin)},
                                    {"exists", std::filesystem::is_directory(directory.path, error)}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitSuccess;
  }

  if (catalog.plugins().empty()) {
    std::cout << "No trainer adapter plugins found.\n";
  } else {
    std::vector<Row> rows;
    for (const auto &plugin : catalog.plugins()) {
      rows.push_back(row_of(plugin));
    }
    print_table(rows);
  }
  if (!catalog.shadowed().empty()) {
    std::cout << "\nShadowed (an earlier plugin has the same name):\n";
    for (const auto &shadowed : catalog.shadowed()) {
      const Row row = row_of(shadowed.plugin);
      std::cout << "  " << row.name << " " << row.version << " " << row.path << " (shadowed by "
                << shadowed.shadowed_by.string() << ")\n";
    }
  }
  if (!catalog.refused().empty()) {
    std::cout << "\nRefused:\n";
    for (const auto &refused : catalog.refused()) {
      std::cout << "  " << refused.path.string() << ": " << refused.reason << "\n";
    }
  }
  std::cout << "\nSearch path:\n";
  int index = 1;
  for (const auto &directory : catalog.search_path().directories) {
    std::cout << "  " << index++ << ". " << directory.path.string() << " (" << origin_label(directory.origin)
              << directory_state(directory.path) << ")\n";
  }
  for (const auto &note : catalog.search_path().notes) {
    std::cout << "  note: " << note << "\n";
  }
  return kExitSuccess;
}

}  // namespace

Subcommand add_list_command(CLI::App &parent, const GlobalOptions &global) {
  CLI::App *app = parent.add_subcommand(
      "list",
      "List the trainer adapter plugins found: name, version, ABI, backend and path, then the shadowed "
      "and refused files with reasons and the search path");
  auto as_json = std::make_shared<bool>(false);
  app->add_flag("--json", *as_json, "Print the same as JSON");
  return {app, [&global, as_json] { return list_plugins(global, *as_json); }};
}

}  // namespace nat::host
