#include "jobs/progress_log.h"

#ifdef _WIN32
#include "jobs/posix_file_win32.h"
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "base/error.h"

namespace nat {

// datetime.now().isoformat(): local time with microseconds.
std::string iso_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
#ifdef _WIN32
  localtime_s(&tm, &t);
#else
  localtime_r(&t, &tm);
#endif
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%06lld", buf, static_cast<long long>(us));
  return out;
}

void append_line(const std::filesystem::path &file, const std::string &line) {
#ifdef _WIN32
  int fd = ::_wopen(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, _S_IREAD | _S_IWRITE);
#else
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
#endif
  if (fd < 0)
    throw Error(ErrorCode::Unavailable, "cannot open " + file.string() + ": " + std::strerror(errno));
#ifdef _WIN32
  // One write() of the whole line keeps concurrent appends whole.
  long long n = ::_write(fd, line.data(), static_cast<unsigned>(line.size()));
#else
  // One write() of the whole line keeps concurrent appends whole.
  ssize_t n = ::write(fd, line.data(), line.size());
#endif
  int err = errno;
  ::close(fd);
  if (n != static_cast<decltype(n)>(line.size()))
    throw Error(ErrorCode::Unavailable, "cannot write " + file.string() + ": " + std::strerror(err));
}

}  // namespace nat
