#include "jobs/spool.h"

#ifdef _WIN32
#include "jobs/posix_file_win32.h"
#else
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace nat {

namespace fs = std::filesystem;

namespace {

std::string file_part(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80))
    out.push_back((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_');
  return out.empty() ? "run" : out;
}

constexpr std::string_view kSuffix = ".json";
constexpr std::string_view kPartialSuffix = ".json.partial";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// A decimal number of 1 to `max_digits` digits.
bool read_digits(std::string_view text, size_t max_digits, int64_t &value) {
  if (text.empty() || text.size() > max_digits) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

// The parts of <run_id>.<submitted ms>.<pid>.<n> (the name without its
// suffix), as write_unsynced composes it.
void read_name(std::string_view stem, SpooledCollection &entry) {
  std::string_view parts[3];
  for (auto &part : parts) {
    size_t dot = stem.rfind('.');
    if (dot == std::string_view::npos) return;
    part = stem.substr(dot + 1);
    stem = stem.substr(0, dot);
  }
  int64_t pid = 0, submitted = 0;
  const bool counter =
      !parts[0].empty() && parts[0].find_first_not_of("0123456789") == std::string_view::npos;
  if (!counter || !read_digits(parts[1], 9, pid) || !read_digits(parts[2], 18, submitted) || pid == 0) return;
  entry.run_id = std::string(stem);
  entry.submitted_unix_ms = submitted;
  entry.writer_pid = static_cast<long>(pid);
}

bool process_exists(long pid) {
#ifdef _WIN32
  return pid > 0 && (win32::kill(pid, 0) == 0 || errno == EPERM);
#else
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
#endif
}

// Paths are UTF-8 strings (config values, the paths this file returns): on
// Windows converted to and from the wide-character paths of the file API.
fs::path native_path(const std::string &utf8) {
#ifdef _WIN32
  return fs::u8path(utf8);
#else
  return fs::path(utf8);
#endif
}

std::string utf8_path(const fs::path &path) {
#ifdef _WIN32
  return path.u8string();
#else
  return path.string();
#endif
}

#ifdef _WIN32
using FileStatus = struct _stat64;  // 64-bit sizes and times
#else
using FileStatus = struct stat;
#endif

int open_file(const std::string &path, int flags) {
#ifdef _WIN32
  return win32::open(native_path(path), flags);
#else
  return ::open(path.c_str(), flags, 0600);
#endif
}

void remove_file(const std::string &path) {
#ifdef _WIN32
  ::_wunlink(native_path(path).c_str());
#else
  ::unlink(path.c_str());
#endif
}

[[noreturn]] void fail_io(const std::string &what, const std::string &path, int err) {
  throw Error(ErrorCode::Unavailable, "spool: cannot " + what + " " + path + ": " + std::strerror(err));
}

}  // namespace

SpoolFile::SpoolFile(SpoolFile &&other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

SpoolFile &SpoolFile::operator=(SpoolFile &&other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

SpoolFile::~SpoolFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string SpoolFile::sync() {
  if (fd_ < 0) return {};
  int fd = fd_;
  fd_ = -1;
  int rc;
#ifdef _WIN32
  rc = win32::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return "spool: cannot sync " + path_ + ": " + std::strerror(err);
  // NTFS keeps a rename without a directory sync (and has none).
  return {};
#else
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (rc != 0) return "spool: cannot sync " + path_ + ": " + std::strerror(err);
  // The rename is durable once the directory is: a file system that cannot
  // sync a directory (EINVAL) keeps it without being asked.
  std::string dir = fs::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return "spool: cannot open the directory " + dir + " to sync it: " + std::strerror(errno);
  do {
    rc = ::fsync(dfd);
  } while (rc != 0 && errno == EINTR);
  err = errno;
  ::close(dfd);
  if (rc != 0 && err != EINVAL) return "spool: cannot sync the directory " + dir + ": " + std::strerror(err);
  return {};
#endif
}

SpoolSync::SpoolSync(SpoolFile file) : file_(std::move(file)) {
  try {
    thread_ = std::thread([this] { run(); });
    threaded_ = true;
  } catch (const std::exception &) {
    // No thread: the first wait() syncs on its caller's thread.
  }
}

SpoolSync::~SpoolSync() {
  wait();
  if (thread_.joinable()) thread_.join();
}

void SpoolSync::run() {
  auto started = std::chrono::steady_clock::now();
  std::string error;
  try {
    error = file_.sync();
  } catch (const std::exception &e) {
    error = std::string("spool: cannot sync ") + file_.path() + ": " + e.what();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::lock_guard<std::mutex> lock(mu_);
  result_ = Result{std::move(error), seconds};
  done_ = true;
  cv_.notify_all();
}

SpoolSync::Result SpoolSync::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!threaded_ && !claimed_) {
    claimed_ = true;
    lock.unlock();
    run();
    lock.lock();
  }
  cv_.wait(lock, [&] { return done_; });
  return result_;
}

SpoolFile Spool::write_unsynced(std::string_view run_id, std::string_view bytes) const {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  fs::create_directories(native_path(dir_), ec);
  if (ec) throw Error(ErrorCode::Unavailable, "spool: cannot create " + dir_ + ": " + ec.message());
  auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string name = file_part(run_id) + "." +
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) +
                     "." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1)) + ".json";
  std::string path = utf8_path(native_path(dir_) / name);
  // Written under a temporary name, renamed once complete: a file under its
  // final name is always a whole collection (a crash mid-write leaves only
  // the .partial, which resubmit --list shows as incomplete).
  std::string tmp = path + ".partial";
  // Owner-only: a collection can hold private conversations.
  int fd = open_file(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
  if (fd < 0) fail_io("create", tmp, errno);
  const char *p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
#ifdef _WIN32
    int n = ::_write(fd, p, static_cast<unsigned>(std::min<size_t>(left, 1u << 30)));
#else
    ssize_t n = ::write(fd, p, left);
#endif
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      remove_file(tmp);
      fail_io("write", tmp, err);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  // Renamed before its sync: the page cache holds the whole file, so a
  // process that dies from here on leaves it complete under its final name.
  // The sync (SpoolFile::sync) runs beside the upload.
#ifdef _WIN32
  // Windows renames no file open without FILE_SHARE_DELETE: closed for the
  // rename, opened again for the sync.
  ::close(fd);
  if (::_wrename(native_path(tmp).c_str(), native_path(path).c_str()) != 0) {
    int err = errno;
    remove_file(tmp);
    fail_io("rename", tmp, err);
  }
  fd = open_file(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail_io("open", path, errno);
#else
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::close(fd);
    remove_file(tmp);
    fail_io("rename", tmp, err);
  }
#endif
  return SpoolFile(std::move(path), fd);
}

std::string Spool::write(std::string_view run_id, std::string_view bytes) const {
  SpoolFile file = write_unsynced(run_id, bytes);
  std::string error = file.sync();
  if (!error.empty()) {
    remove_file(file.path());
    throw Error(ErrorCode::Unavailable, error);
  }
  return file.path();
}

std::string Spool::read(const std::string &path, size_t max_bytes) {
  int fd = open_file(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw Error(err == ENOENT ? ErrorCode::NotFound : ErrorCode::InvalidArgument,
                "spool: cannot open " + path + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorCode::InvalidArgument, "spool: " + path + " is not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    throw Error(ErrorCode::InvalidArgument,
                "spool: " + path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      throw Error(ErrorCode::Unavailable, "spool: cannot read " + path + ": " + std::strerror(err));
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

std::string Spool::owned_file(const std::string &path) const {
  if (path.empty() || path.find('\0') != std::string::npos) return {};
#ifdef _WIN32
  // Not UTF-8 (u8path refuses it): no file of this spool.
  try {
    (void)native_path(path);
    (void)native_path(dir_);
  } catch (const std::exception &) {
    return {};
  }
#endif
  std::error_code ec;
  fs::path file = native_path(path);
  // The file itself must not be a symlink (its target may be anywhere), and
  // its name must not be "." or "..".
  fs::path name = file.filename();
  if (name.empty() || name == "." || name == "..") return {};
  auto status = fs::symlink_status(file, ec);
  if (ec || !fs::is_regular_file(status)) return {};
  fs::path parent = file.parent_path();
  if (parent.empty()) parent = ".";
  fs::path real_parent = fs::canonical(parent, ec);
  if (ec) return {};
  fs::path real_dir = fs::canonical(native_path(dir_), ec);
  if (ec || real_parent != real_dir) return {};
  return utf8_path(real_dir / name);
}

std::vector<SpooledCollection> Spool::list() const {
  std::vector<SpooledCollection> entries;
  std::error_code ec;
  fs::directory_iterator it(native_path(dir_), ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return entries;
    throw Error(ErrorCode::Unavailable, "spool: cannot list " + dir_ + ": " + ec.message());
  }
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = utf8_path(it->path().filename());
    SpooledCollection entry;
    entry.partial = ends_with(name, kPartialSuffix);
    if (!entry.partial && !ends_with(name, kSuffix)) continue;
    // Not followed: owned_file refuses a symlink, which resubmit would
    // submit as a copy and never remove.
    FileStatus st{};
#ifdef _WIN32
    if (it->is_symlink(ec) || ::_wstat64(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    entry.modified_unix_ns = static_cast<int64_t>(st.st_mtime) * 1000000000;
#else
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    entry.modified_unix_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
#endif
    entry.path = utf8_path(it->path());
    entry.bytes = static_cast<uint64_t>(st.st_size);
    const std::string_view stem(name.data(), name.size() - (entry.partial ? kPartialSuffix : kSuffix).size());
    read_name(stem, entry);
    entries.push_back(std::move(entry));
  }
  if (ec) throw Error(ErrorCode::Unavailable, "spool: cannot list " + dir_ + ": " + ec.message());
  std::sort(entries.begin(), entries.end(), [](const SpooledCollection &a, const SpooledCollection &b) {
    if (a.modified_unix_ns != b.modified_unix_ns) return a.modified_unix_ns < b.modified_unix_ns;
    return a.path < b.path;
  });
  return entries;
}

std::string Spool::list_json(bool spooling, std::string_view source) const {
  if (dir_.empty()) throw Error(ErrorCode::InvalidArgument, "spool_dir is empty");
  if (dir_.find('\0') != std::string::npos)
    throw Error(ErrorCode::InvalidArgument, "spool_dir holds a NUL byte");
  std::error_code ec;
  const bool exists = fs::is_directory(native_path(dir_), ec);
  nlohmann::json collections = nlohmann::json::array();
  for (const SpooledCollection &entry : list()) {
    nlohmann::json item = {{"path", entry.path},
                           {"state", entry.partial ? "partial" : "ready"},
                           {"bytes", entry.bytes},
                           {"modified_unix_ns", entry.modified_unix_ns}};
    if (entry.writer_pid > 0) {
      item["run_id"] = entry.run_id;
      item["submitted_unix_ms"] = entry.submitted_unix_ms;
      item["writer_pid"] = entry.writer_pid;
      item["writer_running"] = process_exists(entry.writer_pid);
    }
    collections.push_back(std::move(item));
  }
  nlohmann::json out = {{"spool_dir", dir_},
                        {"spool_dir_source", std::string(source)},
                        {"spooling", spooling},
                        {"exists", exists},
                        {"collections", std::move(collections)}};
  // Replaced, not refused: a file name need not be UTF-8.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Spool::remove(const std::string &path) {
  if (!path.empty()) remove_file(path);
}

}  // namespace nat
