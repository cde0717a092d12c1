// POSIX side of platform.h.
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/platform.h"

namespace nat::host::platform {

bool same_name(const std::string &a, const std::string &b) { return a == b; }

std::optional<std::filesystem::path> executable_path() {
  std::error_code error;
  std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return std::nullopt;
  return executable;
}

bool secure_execution() { return getauxval(AT_SECURE) != 0; }

FileStatus file_status(const std::filesystem::path &path) {
  FileStatus result;
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    result.kind = errno == ENOENT ? FileStatus::Kind::missing : FileStatus::Kind::unreadable;
    result.error = std::strerror(errno);
    return result;
  }
  result.kind = S_ISDIR(status.st_mode)   ? FileStatus::Kind::directory
                : S_ISREG(status.st_mode) ? FileStatus::Kind::regular
                                          : FileStatus::Kind::other;
  // Whoever can write a plugin file, or its directory, runs code in every
  // nat-trainer process that searches there.
  if ((status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
    result.writable_by_others = std::string("writable by group or others (mode ") + mode + ")";
  }
  return result;
}

bool may_be_plugin(const std::filesystem::path &, const char *) { return true; }

bool is_terminal(std::FILE *stream) { return ::isatty(::fileno(stream)) != 0; }

std::tm local_time(std::time_t seconds) {
  std::tm parts{};
  localtime_r(&seconds, &parts);
  return parts;
}

}  // namespace nat::host::platform
