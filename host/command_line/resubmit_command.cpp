// nat-trainer resubmit: spooled collections submitted again, and the spool
// directory listed.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "adapter/adapter_error.hpp"
#include "command_line/commands.hpp"
#include "command_line/configured_adapter.hpp"
#include "command_line/foreground_job.hpp"
#include "command_line/interrupt_signal.hpp"

namespace nat::host {
namespace {

namespace fs = std::filesystem;

struct ResubmitOptions {
  AdapterOptions target;
  std::vector<std::string> files;
  bool wait = false;
  double timeout_s = 0;
  bool list = false;
  bool json = false;
  std::optional<std::string> spool_dir;
};

// Where the spool files of the selected adapter are, and why there.
struct SpoolLocation {
  fs::path directory;
  std::string origin;
  // native.spool is not false: new submits are spooled.
  bool enabled = true;
};

// The default of native.spool_dir in a plugin's config schema, "" if none.
std::string schema_default_spool_dir(const PluginLibrary& plugin) {
  const nlohmann::json& info = plugin.info();
  const nlohmann::json::json_pointer pointer("/config_schema/properties/native/properties/spool_dir/default");
  if (info.contains(pointer) && info.at(pointer).is_string()) {
    return info.at(pointer).get<std::string>();
  }
  return "";
}

// --spool-dir, else native.spool_dir of the adapter config, else the
// default in the plugin's config schema (loaded only when needed).
SpoolLocation locate_spool(const ResubmitOptions& options, const AdapterSelection& selection,
                           const std::function<const PluginLibrary&()>& plugin) {
  SpoolLocation location;
  const nlohmann::json& config = selection.adapter_config;
  const auto native = config.find("native");
  const bool has_native = native != config.end() && native->is_object();
  if (has_native) {
    auto spool = native->find("spool");
    location.enabled = !(spool != native->end() && *spool == false);
  }
  if (options.spool_dir) {
    location.directory = *options.spool_dir;
    location.origin = "--spool-dir";
    return location;
  }
  if (has_native) {
    auto configured = native->find("spool_dir");
    if (configured != native->end() && configured->is_string()) {
      location.directory = configured->get<std::string>();
      location.origin = selection.origin + ": native.spool_dir";
      return location;
    }
  }
  const PluginLibrary& library = plugin();
  const std::string fallback = schema_default_spool_dir(library);
  if (fallback.empty()) {
    throw std::runtime_error(selection.origin + ": plugin " + library.name() +
                             " has no spool (its config schema has no native.spool_dir); name the directory with "
                             "--spool-dir");
  }
  location.directory = fallback;
  location.origin = "the default native.spool_dir of " + library.name();
  return location;
}

// --- listing -----------------------------------------------------------------

struct SpoolEntry {
  fs::path path;
  std::uintmax_t size = 0;
  struct timespec modified {};
  // From the file name <run_id>.<submitted ms>.<pid>.<n>.json, which the
  // plugin writes; the run_id there has every character other than
  // [A-Za-z0-9_-] replaced by "_".
  std::string run;
  long long submitted_ms = 0;
  long writer_pid = 0;
  // A .json.partial file: its writer stopped before the rename that
  // completes a spool file. Not resubmittable.
  bool partial = false;
};

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

void parse_spool_name(std::string name, SpoolEntry& entry) {
  name.erase(name.size() - (entry.partial ? std::string(".json.partial").size() : std::string(".json").size()));
  std::vector<std::string> parts;
  for (int i = 0; i < 3; ++i) {
    const std::size_t dot = name.rfind('.');
    if (dot == std::string::npos) {
      break;
    }
    parts.push_back(name.substr(dot + 1));
    name.erase(dot);
  }
  if (parts.size() == 3 && all_digits(parts[0]) && all_digits(parts[1]) && all_digits(parts[2]) &&
      parts[1].size() < 10 && parts[2].size() < 19) {
    entry.writer_pid = std::stol(parts[1]);
    entry.submitted_ms = std::stoll(parts[2]);
    entry.run = name;
  }
}

std::vector<SpoolEntry> read_spool(const fs::path& directory) {
  std::vector<SpoolEntry> entries;
  for (const fs::directory_entry& file : fs::directory_iterator(directory)) {
    const std::string name = file.path().filename().string();
    SpoolEntry entry;
    entry.partial = ends_with(name, ".json.partial");
    if (!entry.partial && !ends_with(name, ".json")) {
      continue;
    }
    struct stat info {};
    if (::stat(file.path().c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
      continue;
    }
    entry.path = file.path();
    entry.size = static_cast<std::uintmax_t>(info.st_size);
    entry.modified = info.st_mtim;
    parse_spool_name(name, entry);
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(), [](const SpoolEntry& a, const SpoolEntry& b) {
    if (a.modified.tv_sec != b.modified.tv_sec) {
      return a.modified.tv_sec < b.modified.tv_sec;
    }
    if (a.modified.tv_nsec != b.modified.tv_nsec) {
      return a.modified.tv_nsec < b.modified.tv_nsec;
    }
    return a.path < b.path;
  });
  return entries;
}

// Whether a process with this id exists (it may be another program that
// reuses the id of a writer that is gone, or a process on another host when
// the spool directory is shared).
bool process_exists(long pid) {
  if (pid <= 0) {
    return false;
  }
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::string local_time(const struct timespec& when, const char* format) {
  std::tm parts{};
  const std::time_t seconds = when.tv_sec;
  localtime_r(&seconds, &parts);
  char text[64];
  std::strftime(text, sizeof text, format, &parts);
  return text;
}

std::string human_size(std::uintmax_t bytes) {
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (value >= 1024.0 && unit < 3) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

std::string writer_text(const SpoolEntry& entry) {
  if (entry.writer_pid <= 0) {
    return "?";
  }
  return "pid " + std::to_string(entry.writer_pid) + (process_exists(entry.writer_pid) ? " running" : " exited");
}

int list_spool(const GlobalOptions& global, const ResubmitOptions& options) {
  const AdapterSelection selection = select_configured_adapter(options.target);
  std::optional<PluginCatalog> catalog;
  const SpoolLocation location = locate_spool(options, selection, [&]() -> const PluginLibrary& {
    catalog = discover_plugins_for(global);
    return *catalog->require(selection.type, "the _type of " + selection.origin).library;
  });

  std::error_code error;
  const bool exists = fs::is_directory(location.directory, error);
  std::vector<SpoolEntry> entries;
  if (exists) {
    entries = read_spool(location.directory);
  }

  if (options.json) {
    nlohmann::json out = {{"spool_dir", location.directory.string()},
                          {"origin", location.origin},
                          {"exists", exists},
                          {"spooling", location.enabled},
                          {"files", nlohmann::json::array()},
                          {"incomplete", nlohmann::json::array()}};
    for (const SpoolEntry& entry : entries) {
      nlohmann::json item = {
          {"path", entry.path.string()},
          {"size", entry.size},
          {"modified", local_time(entry.modified, "%Y-%m-%dT%H:%M:%S%z")},
          {"modified_unix", static_cast<double>(entry.modified.tv_sec) + entry.modified.tv_nsec / 1e9},
      };
      if (entry.writer_pid > 0) {
        item["run"] = entry.run;
        item["submitted_unix_ms"] = entry.submitted_ms;
        item["writer_pid"] = entry.writer_pid;
        item["writer_running"] = process_exists(entry.writer_pid);
      }
      out[entry.partial ? "incomplete" : "files"].push_back(item);
    }
    std::cout << out.dump(2) << "\n";
    return kExitSuccess;
  }

  std::cout << "Spool directory: " << location.directory.string() << " (" << location.origin << ")\n";
  if (!location.enabled) {
    std::cout << "Note: native.spool is false in this config: new submits are not spooled.\n";
  }
  if (!exists) {
    std::cout << "It does not exist: nothing has been spooled there.\n";
    return kExitSuccess;
  }
  std::vector<const SpoolEntry*> complete, incomplete;
  for (const SpoolEntry& entry : entries) {
    (entry.partial ? incomplete : complete).push_back(&entry);
  }
  if (complete.empty()) {
    std::cout << "No spooled collections: every collection submitted with this spool directory completed "
                 "training, or none was submitted.\n";
  } else {
    struct Row {
      std::string modified, size, run, writer, path;
    };
    std::vector<Row> rows{{"MODIFIED", "SIZE", "RUN", "WRITER", "FILE"}};
    for (const SpoolEntry* entry : complete) {
      rows.push_back({local_time(entry->modified, "%Y-%m-%d %H:%M:%S"), human_size(entry->size),
                      entry->run.empty() ? "?" : entry->run, writer_text(*entry), entry->path.string()});
    }
    std::size_t width[4] = {0, 0, 0, 0};
    for (const Row& row : rows) {
      width[0] = std::max(width[0], row.modified.size());
      width[1] = std::max(width[1], row.size.size());
      width[2] = std::max(width[2], row.run.size());
      width[3] = std::max(width[3], row.writer.size());
    }
    auto cell = [](const std::string& text, std::size_t w) { return text + std::string(w - text.size() + 2, ' '); };
    for (const Row& row : rows) {
      std::cout << cell(row.modified, width[0]) << cell(row.size, width[1]) << cell(row.run, width[2])
                << cell(row.writer, width[3]) << row.path << "\n";
    }
    std::cout << "\n"
              << complete.size() << (complete.size() == 1 ? " collection" : " collections")
              << " not yet trained to completion. A WRITER still running may be training it now (or be another "
                 "process that reuses its id). Resubmit with:\n  "
              << resubmit_command_for(global, options.target) << " FILE...\n";
  }
  if (!incomplete.empty()) {
    std::cout << "\nIncomplete (the writer stopped while writing them; nothing of them was sent; not "
                 "resubmittable):\n";
    for (const SpoolEntry* entry : incomplete) {
      std::cout << "  " << entry->path.string() << " (" << human_size(entry->size) << ", "
                << local_time(entry->modified, "%Y-%m-%d %H:%M:%S") << ")\n";
    }
  }
  return kExitSuccess;
}

// --- resubmitting --------------------------------------------------------------

// A spool file must be a complete file of the spool directory: the adapter
// removes the file once its training completed, which must never happen to
// a collection the user keeps elsewhere.
void check_spool_file(const fs::path& file, const SpoolLocation& location) {
  const std::string name = file.filename().string();
  if (ends_with(name, ".partial")) {
    throw std::runtime_error(file.string() +
                             ": an incomplete spool file (its writer stopped while writing it); nothing of it was "
                             "sent, and it cannot be resubmitted");
  }
  std::error_code error, directory_error, file_error;
  if (!fs::is_regular_file(file, error)) {
    throw std::runtime_error(file.string() + ": not a regular file");
  }
  const fs::path directory = fs::weakly_canonical(location.directory, directory_error);
  const fs::path parent = fs::weakly_canonical(file, file_error).parent_path();
  if (directory_error || file_error || parent != directory) {
    throw std::runtime_error(file.string() + ": not a file of the spool directory " + location.directory.string() +
                             " (" + location.origin +
                             "). resubmit takes spool files, and removes each once its training completed; "
                             "submit other collections with `nat-trainer run --trajectories FILE`, or name the "
                             "directory the file is in with --spool-dir");
  }
}

int resubmit(const GlobalOptions& global, const ResubmitOptions& options) {
  if (options.files.empty()) {
    std::cerr << "nat-trainer: error: resubmit needs the spool files to submit again (see `nat-trainer resubmit "
                 "--list`)\nRun with --help for more information.\n";
    return kExitError;
  }
  // --spool-dir is the adapter's spool directory too: the plugin removes a
  // resubmitted file once trained only when it is a file of its own
  // native.spool_dir (any other file it submits as a copy and leaves alone).
  ConfiguredAdapter configured = open_configured_adapter(
      global, options.target, [&](AdapterSelection& selection, const PluginLibrary& plugin) {
        if (options.spool_dir && !schema_default_spool_dir(plugin).empty()) {
          nlohmann::json& native = selection.adapter_config["native"];
          if (native.is_null()) {
            native = nlohmann::json::object();
          }
          if (native.is_object()) {
            native["spool_dir"] = *options.spool_dir;
          }
        }
      });
  Adapter& adapter = *configured.adapter;
  const SpoolLocation location =
      locate_spool(options, configured.selection, [&]() -> const PluginLibrary& { return *configured.plugin.library; });
  // Every file is checked before initialize, which can take minutes.
  for (const std::string& file : options.files) {
    check_spool_file(file, location);
  }
  if (!adapter.can_resubmit()) {
    throw std::runtime_error("plugin " + describe_plugin(configured.plugin) +
                             " cannot resubmit: it does not export nat_trainer_adapter_resubmit");
  }

  adapter.initialize(configured.selection.finetuning);

  // From here on Ctrl-C cancels the running job and stops.
  InterruptSignal interrupt;
  ForegroundJobOptions foreground;
  foreground.wait = options.wait;
  foreground.timeout_s = options.timeout_s;
  foreground.resubmit_command = resubmit_command_for(global, options.target);
  foreground.report_spool_removal = true;

  bool failed_to_submit = false;
  bool not_completed = false;
  // One job after the other: collections of one run_id cannot train at once,
  // and one job at a time is what `run` does too.
  for (const std::string& file : options.files) {
    if (interrupt.requested()) {
      std::cerr << "nat-trainer: interrupted; not resubmitted: " << file << "\n";
      not_completed = true;
      continue;
    }
    nlohmann::json job_ref;
    try {
      job_ref = adapter.resubmit(file);
    } catch (const AdapterError& e) {
      std::cout.flush();
      std::cerr << "nat-trainer: error: " << file << ": " << e.what() << "\n";
      failed_to_submit = true;
      continue;
    }
    const ForegroundJobResult end = follow_in_foreground(adapter, job_ref, foreground, interrupt);
    if (end.interrupted) {
      for (auto rest = std::find(options.files.begin(), options.files.end(), file) + 1; rest != options.files.end();
           ++rest) {
        std::cerr << "nat-trainer: interrupted; not resubmitted: " << *rest << "\n";
      }
      return end.exit_code;
    }
    not_completed = not_completed || end.exit_code != kExitSuccess;
  }
  if (failed_to_submit) {
    return kExitError;
  }
  return not_completed ? kExitJobNotCompleted : kExitSuccess;
}

}  // namespace

Subcommand add_resubmit_command(CLI::App& parent, const GlobalOptions& global) {
  CLI::App* app = parent.add_subcommand(
      "resubmit",
      "Submit spooled collections again. Every submit first writes its collection to the spool directory "
      "(native.spool_dir); the file is removed only when training completed. After a failed, canceled or "
      "interrupted job, or a crash, resubmit initializes the configured adapter as run does and submits each "
      "SPOOL_FILE again, one job after the other (same run_id; the file stays its spool file until training "
      "completes). Like run it prints each TrainingJobRef, stays until each job ends (Ctrl-C cancels it), and with "
      "--wait shows progress and prints each final TrainingJobStatus. Exit 0 only when every job completed. "
      "--list shows the spool directory instead.");
  auto options = std::make_shared<ResubmitOptions>();
  add_adapter_options(*app, options->target);
  CLI::Option* files = app->add_option("SPOOL_FILE", options->files,
                                       "Spool files to submit again (files of the spool directory; see --list)")
                           ->check(CLI::ExistingFile.description(""))
                           ->type_name("FILE");
  CLI::Option* wait = app->add_flag(
      "--wait", options->wait,
      "Follow each job: a progress bar on a terminal, plain lines otherwise (stderr); then print its final status");
  CLI::Option* timeout =
      app->add_option("--timeout", options->timeout_s,
                      "Cancel a job if it has not ended after this many seconds (default: no limit)")
          ->check(CLI::NonNegativeNumber);
  CLI::Option* list = app->add_flag("--list", options->list,
                                    "List the spool directory: each spooled collection with its time, size, run "
                                    "and writer process, then incomplete files; sends nothing");
  list->excludes(files)->excludes(wait)->excludes(timeout);
  app->add_flag("--json", options->json, "With --list: print the listing as JSON")->needs(list);
  app->add_option("--spool-dir", options->spool_dir,
                  "The spool directory (default: native.spool_dir of the adapter config, else the plugin's "
                  "default)")
      ->type_name("DIR");
  return {app, [&global, options] {
            return options->list ? list_spool(global, *options) : resubmit(global, *options);
          }};
}

}  // namespace nat::host
