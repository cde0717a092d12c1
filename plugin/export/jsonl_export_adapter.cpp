#include "export/jsonl_export_adapter.h"

#ifdef _WIN32
#include "jobs/posix_file_win32.h"
#else
#include <fcntl.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "base/error.h"
#include "config/adapter_config.h"
#include "convert/trajectory_converter.h"
#include "jobs/spool.h"
#include "json/small_json.h"
#include "nat/lax_number.h"

namespace nat {

namespace {

namespace fs = std::filesystem;

// Writes to a file descriptor and counts lines (groups) as they pass, so the
// job can report progress per group.
class FileSink : public ByteSink {
 public:
  FileSink(int fd, Job &job, size_t total_groups) : fd_(fd), job_(job), total_(total_groups) {}
  void write(std::string_view bytes) override {
    const char *p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      if (job_.cancel_requested()) throw Error(ErrorCode::Cancelled, "cancelled");
#ifdef _WIN32
      long long n = win32::write(fd_, p, left);
#else
      ssize_t n = ::write(fd_, p, left);
#endif
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(ErrorCode::Unavailable, std::string("write failed: ") + std::strerror(errno));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    for (char c : bytes) {
      if (c != '\n') continue;
      ++done_;
      double pct = total_ ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
      job_.set_progress(pct > 100.0 ? 100.0 : pct);
      job_.emit({{"type", "step"},
                 {"step", done_},
                 {"num_gradient_steps", total_},
                 {"metrics", {{"groups_written", done_}}}});
    }
    bytes_ += bytes.size();
  }
  size_t bytes() const { return bytes_; }

 private:
  int fd_;
  Job &job_;
  size_t total_;
  size_t done_ = 0;
  size_t bytes_ = 0;
};

// The run_id as a file name part: at most 120 bytes, so that the whole name
// (with time, process id, job id and suffixes) stays within NAME_MAX.
std::string safe_file_part(const std::string &s) {
  std::string out;
  for (char c : s.substr(0, 120))
    out.push_back((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c
                                                                                                    : '_');
  if (out.empty() || out == "." || out == "..") out = "run";
  return out;
}

// Moves `from` to `to` unless `to` exists: never replaces a file. Returns
// false when `to` exists; throws on other failures. renameat2's
// RENAME_NOREPLACE where the file system has it, else link + unlink (both
// fail with EEXIST instead of replacing).
bool move_no_replace(const fs::path &from, const fs::path &to) {
#ifdef _WIN32
  // MoveFileExW without MOVEFILE_REPLACE_EXISTING fails on an existing file.
  if (::MoveFileExW(from.c_str(), to.c_str(), MOVEFILE_WRITE_THROUGH)) return true;
  DWORD code = ::GetLastError();
  if (code == ERROR_ALREADY_EXISTS || code == ERROR_FILE_EXISTS) return false;
  throw Error(ErrorCode::Unavailable,
              "cannot rename " + from.string() + " to " + to.string() + ": " +
                  std::error_code(static_cast<int>(code), std::system_category()).message());
#else
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  int err = errno;
  if (err == EEXIST) return false;
  if (err != EINVAL && err != ENOSYS && err != ENOTSUP)
    throw Error(ErrorCode::Unavailable,
                "cannot rename " + from.string() + " to " + to.string() + ": " + std::strerror(err));
  if (::link(from.c_str(), to.c_str()) != 0) {
    err = errno;
    if (err == EEXIST) return false;
    throw Error(ErrorCode::Unavailable,
                "cannot link " + from.string() + " to " + to.string() + ": " + std::strerror(err));
  }
  ::unlink(from.c_str());
  return true;
#endif
}

// A dataset's file name: <run_id>.<unix ms>.<pid>.<job_id>[.<k>].jsonl. Job
// ids restart at 1 in every adapter and NAT reuses one run_id for every
// epoch: the time and the process id keep the names of separate processes
// apart, and should two names still meet (process ids of separate
// containers sharing a directory), the next k is taken: move_no_replace
// never replaces what is there.
std::string dataset_name(const std::string &run_id, uint64_t job_id, unsigned attempt) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  std::string name = safe_file_part(run_id) + "." + std::to_string(ms.count()) + "." +
                     std::to_string(::getpid()) + "." + std::to_string(job_id);
  if (attempt > 0) name += "." + std::to_string(attempt);
  return name + ".jsonl";
}

constexpr unsigned kMaxNameAttempts = 100;

}  // namespace

ExportConfig parse_export_config(std::string_view json_text) {
  nlohmann::json root = json::parse_checked(json_text, "config");
  if (!root.is_object()) throw_invalid("config: expected a JSON object");
  refuse_duplicate_keys(json_text);
  ExportConfig cfg;
  auto type = root.find("_type");
  if (type == root.end()) type = root.find("type");
  if (type != root.end() && !type->is_null() && (!type->is_string() || *type != JsonlExportAdapter::kType))
    throw_invalid(std::string("config: _type: this plugin implements \"") + JsonlExportAdapter::kType + "\"");
  auto dir = root.find("output_dir");
  if (dir != root.end() && !dir->is_null()) {
    if (!dir->is_string() || dir->get<std::string>().empty())
      throw_invalid("config: output_dir: expected a non-empty string");
    cfg.output_dir = dir->get<std::string>();
    refuse_nul(cfg.output_dir, "output_dir");
  }
  auto native = root.find("native");
  if (native != root.end() && !native->is_null()) {
    if (!native->is_object()) throw_invalid("config: native: expected an object");
    for (auto it = native->begin(); it != native->end(); ++it) {
      if (it.key() == "validation") {
        auto mode = it->is_string() ? parse_validation_mode(it->get<std::string>()) : std::nullopt;
        if (!mode) throw_invalid("config: native.validation: expected \"compat\" or \"strict\"");
        cfg.validation = *mode;
      } else if (it.key() == "max_json_depth") {
        // As the ART plugin reads its integer options: a JSON integer
        // compared as a 64-bit value (get<int>() would truncate 4294967298
        // to 2), or what pydantic's lax mode reads as an int ("64", 64.0).
        const bool in_range =
            it->is_number_unsigned()  ? it->get<uint64_t>() >= 2 && it->get<uint64_t>() <= 1000
            : it->is_number_integer() ? it->get<int64_t>() >= 2 && it->get<int64_t>() <= 1000
                                      : false;
        std::optional<double> lax = in_range || it->is_number_integer() ? std::nullopt : lax_integer(*it);
        if (!in_range && !(lax && *lax >= 2 && *lax <= 1000))
          throw_invalid("config: native.max_json_depth: expected an integer between 2 and 1000");
        cfg.max_json_depth = in_range ? static_cast<int>(it->get<int64_t>()) : static_cast<int>(*lax);
      } else {
        throw_invalid("config: native." + it.key() + ": unknown option");
      }
    }
  }
  return cfg;
}

const char *export_config_schema() {
  return R"JSON({"$schema":"https://json-schema.org/draft/2020-12/schema","title":"JsonlExportTrainerAdapterConfig","type":"object","properties":{"_type":{"const":"jsonl_export_trainer_adapter"},"output_dir":{"type":"string","default":"./.tmp/nat/finetuning/jsonl_export","description":"Directory that receives one <run_id>.<unix ms>.<pid>.<job_id>.jsonl dataset per submit (one ART TrajectoryGroup per line); an existing file is never replaced."},"native":{"type":"object","additionalProperties":false,"properties":{"validation":{"enum":["compat","strict"],"default":"compat"},"max_json_depth":{"type":"integer","minimum":2,"maximum":1000,"default":128}}}}})JSON";
}

JsonlExportAdapter::JsonlExportAdapter(ExportConfig config) : config_(std::move(config)) {}

JsonlExportAdapter::~JsonlExportAdapter() { shutdown(); }

nlohmann::json JsonlExportAdapter::trainer_config_summary() const {
  return {{"output_dir", config_.output_dir}};
}

void JsonlExportAdapter::initialize(std::string_view run_config_json) {
  if (!run_config_json.empty()) {
    auto rc = json::parse_checked(run_config_json, "run config");
    if (!rc.is_object()) throw_invalid("run config: expected a FinetuneConfig JSON object");
  }
  std::error_code ec;
  fs::create_directories(config_.output_dir, ec);
  if (ec)
    throw Error(ErrorCode::Unavailable,
                "cannot create output_dir " + config_.output_dir + ": " + ec.message());
  if (!is_healthy())
    throw Error(ErrorCode::Unavailable, "output_dir " + config_.output_dir + " is not writable");
}

bool JsonlExportAdapter::is_healthy() { return ::access(config_.output_dir.c_str(), W_OK | X_OK) == 0; }

std::string JsonlExportAdapter::convert(std::string_view collection_json) {
  CollectionPlan plan =
      plan_collection(collection_json, config_.validation, CollectionLimits{config_.max_json_depth});
  if (plan.groups_kept == 0) throw_invalid("No valid trajectory groups to submit.");
  std::string out;
  StringSink sink(out);
  TrajectoryConverter(collection_json, plan, config_.max_json_depth).write_groups(sink, "", "\n", "\n");
  return out;
}

std::string JsonlExportAdapter::resubmit(const std::string &spool_path) {
  return submit(Spool::read(spool_path, SIZE_MAX));
}

std::string JsonlExportAdapter::submit(std::string_view collection_json) {
  auto input = std::make_shared<const std::string>(collection_json);
  auto plan = std::make_shared<const CollectionPlan>(
      plan_collection(*input, config_.validation, CollectionLimits{config_.max_json_depth}));
  if (plan->groups_kept == 0) throw_invalid("No valid trajectory groups to submit.");
  nlohmann::json metadata = {{"groups_submitted", plan->groups_kept},
                             {"trajectories_submitted", plan->trajectories_kept},
                             {"trajectories_dropped", plan->dropped_count}};
  auto job = jobs_.create(plan->run_id, kBackend, metadata);
  std::string dir = config_.output_dir;
  int depth = config_.max_json_depth;
  job->start([input, plan, dir, depth](Job &j) {
    j.mark_running();
    j.emit({{"type", "started"}, {"groups", plan->groups_kept}, {"trajectories", plan->trajectories_kept}});
    std::error_code ec;
    fs::create_directories(dir, ec);
    // The temporary file is created exclusively, under a name no other
    // writer uses (it is the final name plus .partial), and never replaces
    // anything either.
    fs::path final_path = fs::path(dir) / dataset_name(plan->run_id, j.id(), 0);
    fs::path tmp_path = final_path;
    tmp_path += ".partial";
#ifdef _WIN32
    int fd = win32::open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
#else
    int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
#endif
    for (unsigned attempt = 1; fd < 0 && errno == EEXIST && attempt < kMaxNameAttempts; ++attempt) {
      final_path = fs::path(dir) / dataset_name(plan->run_id, j.id(), attempt);
      tmp_path = final_path;
      tmp_path += ".partial";
#ifdef _WIN32
      fd = win32::open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
#else
      fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
#endif
    }
    if (fd < 0)
      throw Error(ErrorCode::Unavailable, "cannot create " + tmp_path.string() + ": " + std::strerror(errno));
    FileSink sink(fd, j, plan->groups_kept);
    try {
      TrajectoryConverter(*input, *plan, depth).write_groups(sink, "", "\n", "\n");
#ifdef _WIN32
      if (win32::fsync(fd) != 0)
#else
      if (::fsync(fd) != 0)
#endif
        throw Error(ErrorCode::Unavailable, std::string("fsync failed: ") + std::strerror(errno));
    } catch (const Error &e) {
      ::close(fd);
      fs::remove(tmp_path, ec);
      if (e.code() == ErrorCode::Cancelled) {
        j.finish(JobState::Canceled, "Training was cancelled.", std::nullopt);
        return;
      }
      throw;
    }
    ::close(fd);
    // Readers of the directory never see a half-written dataset, and an
    // existing dataset is never replaced: a taken name moves on to the next.
    bool moved = false;
    try {
      for (unsigned attempt = 0; !moved && attempt < kMaxNameAttempts; ++attempt) {
        if (attempt > 0) final_path = fs::path(dir) / dataset_name(plan->run_id, j.id(), attempt);
        moved = move_no_replace(tmp_path, final_path);
      }
    } catch (...) {
      fs::remove(tmp_path, ec);
      throw;
    }
    if (!moved) {
      fs::remove(tmp_path, ec);
      throw Error(ErrorCode::Unavailable, "cannot publish the dataset in " + dir + ": " +
                                              std::to_string(kMaxNameAttempts) + " names taken");
    }
    j.update_metadata([&](nlohmann::json &m) {
      m["dataset"] = final_path.string();
      m["bytes"] = sink.bytes();
    });
    j.finish(JobState::Completed, "Export completed successfully: " + final_path.string(), 100.0);
  });
  return job->ref_json();
}

}  // namespace nat
