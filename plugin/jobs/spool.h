// The spool: every submitted collection is written to disk before anything
// is sent, and removed only when its training completed. After a failure, a
// cancel or a crash of the process, the file is still there to resubmit.
#pragma once

#include <string>
#include <string_view>

namespace nat {

// NAT's directory conventions: relative to the working directory.
constexpr const char *kDefaultSpoolDir = "./.tmp/nat/finetuning/spool";

class Spool {
 public:
  explicit Spool(std::string dir) : dir_(std::move(dir)) {}
  const std::string &dir() const { return dir_; }

  // Writes `bytes` durably (temporary file, fsync, rename) and returns the
  // path. Throws nat::Error(Unavailable) naming the file on failure.
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
  // Removes a spool file; a missing file is not an error. Callers pass
  // only paths that write() or owned_file() returned.
  static void remove(const std::string &path);

 private:
  std::string dir_;
};

}  // namespace nat
