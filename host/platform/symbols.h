// A function's address in a loaded library: dlsym on POSIX, GetProcAddress
// on Windows. Header-only: the benchmark resolves plugins with it too.
#pragma once

#ifdef _WIN32
// Boost.WinAPI declares GetProcAddress without windows.h and its macros
// (SearchPath, min, max, ...).
#include <boost/winapi/get_proc_address.hpp>
#else
#include <dlfcn.h>
#endif

namespace nat::host::platform {

// library: a handle of dlopen (POSIX) or an HMODULE (Windows). Null when the
// library exports no such name.
inline void *find_symbol(void *library, const char *name) {
#ifdef _WIN32
  return reinterpret_cast<void *>(
      boost::winapi::get_proc_address(static_cast<boost::winapi::HMODULE_>(library), name));
#else
  return ::dlsym(library, name);
#endif
}

}  // namespace nat::host::platform
