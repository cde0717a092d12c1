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
  // Removes a spool file; a missing file is not an error.
  static void remove(const std::string &path);

 private:
  std::string dir_;
};

}  // namespace nat
