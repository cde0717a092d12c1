// The spool: every submitted collection is written to disk before anything
// is sent, and removed only when its training completed. After a failure, a
// cancel or a crash of the process, the file is still there to resubmit.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace nat {

// NAT's directory conventions: relative to the working directory.
constexpr const char *kDefaultSpoolDir = "./.tmp/nat/finetuning/spool";

// A spool file written in full and renamed to its final name, whose data may
// still be only in the page cache: it survives the death of the process
// (even by SIGKILL), and sync() makes it survive a crash of the machine.
// Keeps the file open until then. Move-only.
class SpoolFile {
 public:
  SpoolFile() = default;
  SpoolFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  SpoolFile(SpoolFile &&other) noexcept;
  SpoolFile &operator=(SpoolFile &&other) noexcept;
  SpoolFile(const SpoolFile &) = delete;
  SpoolFile &operator=(const SpoolFile &) = delete;
  ~SpoolFile();

  const std::string &path() const { return path_; }
  // fsync of the file, then of its directory (which makes the rename
  // durable), and closes the file. Returns "" on success, otherwise what
  // failed, naming the file. Once; later calls return "".
  std::string sync();

 private:
  std::string path_;
  int fd_ = -1;
};

// A SpoolFile's sync() on a thread of its own, started by the constructor,
// so that sending the collection need not wait for the disk. If no thread
// can be started, wait() syncs on the caller's thread.
class SpoolSync {
 public:
  struct Result {
    std::string error;     // "" when the file and its directory were synced
    double seconds = 0.0;  // how long the sync took
  };
  explicit SpoolSync(SpoolFile file);
  ~SpoolSync();  // waits for the sync
  SpoolSync(const SpoolSync &) = delete;
  SpoolSync &operator=(const SpoolSync &) = delete;

  const std::string &path() const { return file_.path(); }
  // Blocks until the sync has finished. Safe from several threads.
  Result wait();

 private:
  void run();

  SpoolFile file_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool threaded_ = false;  // set by the constructor only
  bool claimed_ = false;   // without a thread: a wait() is running the sync
  bool done_ = false;
  Result result_;
  std::thread thread_;
};

// One file of a spool directory, as Spool::list reads it.
struct SpooledCollection {
  std::string path;  // the spool directory as given, then the file name
  // A <name>.json.partial file: its writer stopped before the rename that
  // completes a spool file. Nothing of it was sent; not resubmittable.
  bool partial = false;
  uint64_t bytes = 0;
  int64_t modified_unix_ns = 0;
  // From the name <run_id>.<submitted ms>.<pid>.<n>.json that
  // write_unsynced gives a file (run_id with every character other than
  // [A-Za-z0-9_-] replaced by "_"); writer_pid is 0 when the name is not of
  // that form (a file put there by hand).
  std::string run_id;
  int64_t submitted_unix_ms = 0;
  long writer_pid = 0;
};

class Spool {
 public:
  explicit Spool(std::string dir) : dir_(std::move(dir)) {}
  const std::string &dir() const { return dir_; }

  // Writes `bytes` to a temporary name (<name>.partial, owner-only) and
  // renames it to its final name, without waiting for the disk: the
  // returned file is complete under its final name for every process, but
  // not yet durable across a crash of the machine until its sync(). Throws
  // nat::Error(Unavailable) naming the file on failure (nothing is left).
  SpoolFile write_unsynced(std::string_view run_id, std::string_view bytes) const;
  // write_unsynced and sync: returns the path of a durable file. Throws
  // nat::Error(Unavailable) naming the file on failure.
  std::string write(std::string_view run_id, std::string_view bytes) const;
  // Reads a spooled collection back. Throws InvalidArgument / NotFound.
  static std::string read(const std::string &path, size_t max_bytes);
  // `path` as a file of this spool directory, or "" when it is not one.
  // It is one when it is a regular file (not a symlink) whose parent
  // directory, with every symlink and ".." resolved, is this directory,
  // resolved the same way. Returns the path with the resolved directory.
  // Only such a file may become a job's spool file, which is removed once
  // its training completed: a collection kept anywhere else (or reached
  // through a symlink in the spool) is never deleted.
  std::string owned_file(const std::string &path) const;
  // Every collection file of this directory (regular *.json and
  // *.json.partial files directly in it, symlinks not followed), oldest
  // modification first, then by path. Empty when the directory does not
  // exist. Throws nat::Error(Unavailable) when it cannot be read.
  std::vector<SpooledCollection> list() const;
  // list() as the JSON of nat_trainer_adapter_spooled:
  //   {"spool_dir", "spool_dir_source" (`source`), "spooling" (`spooling`),
  //    "exists", "collections": [{"path", "state": "ready"|"partial",
  //    "bytes", "modified_unix_ns", and when the name is the spool's own:
  //    "run_id", "submitted_unix_ms", "writer_pid", "writer_running"}]}
  // writer_running: a process with that id exists on this host (it may be
  // another program that reuses the id, or the directory may be shared with
  // another host). Throws nat::Error(InvalidArgument) for an empty directory
  // name or one holding a NUL byte, and as list().
  std::string list_json(bool spooling, std::string_view source) const;
  // Removes a spool file; a missing file is not an error. Callers pass
  // only paths that write() or owned_file() returned.
  static void remove(const std::string &path);

 private:
  std::string dir_;
};

}  // namespace nat
