// The few POSIX file and process calls of jobs/spool.cpp, on Windows (the
// MinGW-w64 build): the C runtime's _open family in binary mode, handles
// not inherited; _commit for fsync; a process probe for kill(pid, 0).
#pragma once
#ifdef _WIN32

#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <sys/stat.h>
#include <windows.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <filesystem>

#ifndef O_CLOEXEC
#define O_CLOEXEC (_O_BINARY | _O_NOINHERIT)
#endif
#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif

namespace nat::win32 {

inline int fsync(int fd) { return ::_commit(fd); }

inline long long write(int fd, const void *data, std::size_t size) {
  return ::_write(fd, data, static_cast<unsigned>(std::min<std::size_t>(size, std::size_t{1} << 30)));
}

// open() of a path in any language (the wide-character API).
inline int open(const std::filesystem::path &path, int flags) {
  return ::_wopen(path.c_str(), flags, _S_IREAD | _S_IWRITE);
}

// kill(pid, 0): 0 if the process exists; -1 with errno ESRCH otherwise.
inline int kill(long pid, int) {
  HANDLE h = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (h == nullptr) {
    errno = ::GetLastError() == ERROR_ACCESS_DENIED ? EPERM : ESRCH;
    return -1;
  }
  DWORD code = 0;
  bool running = ::GetExitCodeProcess(h, &code) && code == STILL_ACTIVE;
  ::CloseHandle(h);
  if (running) return 0;
  errno = ESRCH;
  return -1;
}

}  // namespace nat::win32

#endif
