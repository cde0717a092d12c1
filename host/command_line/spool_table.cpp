#include "command_line/spool_table.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "platform/platform.h"

namespace nat::host {
namespace {

std::string local_time(const struct timespec &when, const char *format) {
  const std::tm parts = platform::local_time(when.tv_sec);
  char text[64];
  std::strftime(text, sizeof text, format, &parts);
  return text;
}

std::string human_size(std::uintmax_t bytes) {
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
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

std::string writer_text(const SpooledFile &file) {
  if (file.writer_pid <= 0) {
    return "?";
  }
  return "pid " + std::to_string(file.writer_pid) + (file.writer_running ? " running" : " exited");
}

void print_complete(std::ostream &out, const std::vector<const SpooledFile *> &complete,
                    const std::string &resubmit_command) {
  struct Row {
    std::string modified, size, run, writer, path;
  };
  std::vector<Row> rows{{"MODIFIED", "SIZE", "RUN", "WRITER", "FILE"}};
  for (const SpooledFile *file : complete) {
    rows.push_back({local_time(file->modified, "%Y-%m-%d %H:%M:%S"), human_size(file->bytes),
                    file->run.empty() ? "?" : file->run, writer_text(*file), file->path.string()});
  }
  std::size_t width[4] = {0, 0, 0, 0};
  for (const Row &row : rows) {
    width[0] = std::max(width[0], row.modified.size());
    width[1] = std::max(width[1], row.size.size());
    width[2] = std::max(width[2], row.run.size());
    width[3] = std::max(width[3], row.writer.size());
  }
  auto cell = [](const std::string &text, std::size_t w) {
    return text + std::string(w - text.size() + 2, ' ');
  };
  for (const Row &row : rows) {
    out << cell(row.modified, width[0]) << cell(row.size, width[1]) << cell(row.run, width[2])
        << cell(row.writer, width[3]) << row.path << "\n";
  }
  out << "\n"
      << complete.size() << (complete.size() == 1 ? " collection" : " collections")
      << " not yet trained to completion. A WRITER still running may be training it now (or be another "
         "process that reuses its id). Resubmit with:\n  "
      << resubmit_command << " FILE...\n";
}

}  // namespace

void print_spool_json(std::ostream &out, const SpoolListing &listing) {
  nlohmann::json document = {{"spool_dir", listing.directory.string()},
                             {"origin", listing.origin},
                             {"exists", listing.exists},
                             {"spooling", listing.spooling},
                             {"files", nlohmann::json::array()},
                             {"incomplete", nlohmann::json::array()}};
  for (const SpooledFile &file : listing.files) {
    nlohmann::json item = {
        {"path", file.path.string()},
        {"size", file.bytes},
        {"modified", local_time(file.modified, "%Y-%m-%dT%H:%M:%S%z")},
        {"modified_unix", static_cast<double>(file.modified.tv_sec) + file.modified.tv_nsec / 1e9},
    };
    if (file.writer_pid > 0) {
      item["run"] = file.run;
      item["submitted_unix_ms"] = file.submitted_ms;
      item["writer_pid"] = file.writer_pid;
      item["writer_running"] = file.writer_running;
    }
    document[file.ready ? "files" : "incomplete"].push_back(item);
  }
  out << document.dump(2) << "\n";
}

void print_spool_table(std::ostream &out, const SpoolListing &listing, const std::string &resubmit_command) {
  out << "Spool directory: " << listing.directory.string() << " (" << listing.origin << ")\n";
  if (!listing.spooling) {
    out << "Note: native.spool is false in this config: new submits are not spooled.\n";
  }
  if (!listing.exists) {
    out << "It does not exist: nothing has been spooled there.\n";
    return;
  }
  std::vector<const SpooledFile *> complete, incomplete;
  for (const SpooledFile &file : listing.files) {
    (file.ready ? complete : incomplete).push_back(&file);
  }
  if (complete.empty()) {
    out << "No spooled collections: every collection submitted with this spool directory completed "
           "training, or none was submitted.\n";
  } else {
    print_complete(out, complete, resubmit_command);
  }
  if (!incomplete.empty()) {
    out << "\nIncomplete (the writer stopped while writing them; nothing of them was sent; not "
           "resubmittable):\n";
    for (const SpooledFile *file : incomplete) {
      out << "  " << file->path.string() << " (" << human_size(file->bytes) << ", "
          << local_time(file->modified, "%Y-%m-%d %H:%M:%S") << ")\n";
    }
  }
}

}  // namespace nat::host
