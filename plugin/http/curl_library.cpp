// libcurl loaded with dlopen on first use; see curl_library.h.
//
// The functions below replace libcurl's own for this plugin: they have the
// exact declarations of <curl/curl.h>, are defined with hidden visibility (so
// they are neither exported (abi/check_exports.py) nor able to
// interpose on a libcurl another part of the process uses) and forward to the
// functions of the dlopen'ed library.

// The definitions below must not be rewritten by the type-checking macros
// curl/typecheck-gcc.h defines for C compilers.
#define CURL_DISABLE_TYPECHECK 1
#if defined(_WIN32) && !defined(NAT_ART_LIBCURL_SONAME)
// Windows: the first of libcurl-x64.dll, libcurl.dll, libcurl-4.dll found
// beside the plugin, then the same names in the system's DLL search path.
#define NAT_ART_LIBCURL_SONAME "libcurl-x64.dll"
#endif
#include "http/curl_library.h"

#include <curl/curl.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#include <atomic>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <new>
#include <string>

#ifdef _WIN32
// A DLL exports only what is marked __declspec(dllexport).
#define NAT_CURL_HIDDEN
#else
#define NAT_CURL_HIDDEN __attribute__((visibility("hidden")))
#endif

namespace nat::http {
namespace {

// CURLOPT_PROTOCOLS_STR (7.85.0) is the newest option http_client.cpp sets;
// an older libcurl would ignore it and allow every protocol.
constexpr unsigned kMinimumVersion = 0x075500;
constexpr const char *kMinimumVersionText = "7.85.0";

struct Functions {
  CURLcode (*global_init)(long flags) = nullptr;
  curl_version_info_data *(*version_info)(CURLversion) = nullptr;
  CURL *(*easy_init)() = nullptr;
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...) = nullptr;
  CURLcode (*easy_perform)(CURL *) = nullptr;
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...) = nullptr;
  void (*easy_cleanup)(CURL *) = nullptr;
  const char *(*easy_strerror)(CURLcode) = nullptr;
  curl_slist *(*slist_append)(curl_slist *, const char *) = nullptr;
  void (*slist_free_all)(curl_slist *) = nullptr;
  CURLU *(*url)() = nullptr;
  void (*url_cleanup)(CURLU *) = nullptr;
  CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int) = nullptr;
  CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int) = nullptr;
  void (*free_memory)(void *) = nullptr;
};

struct Library {
  std::once_flag once;
  std::atomic<bool> tried{false};
  bool usable = false;  // written once inside `once`, read after it
  Functions fn;
  std::string error;  // why it is not usable
  std::atomic<long> global_flags{CURL_GLOBAL_DEFAULT};
  // native.libcurl_path, under choice_mutex: the path chosen ("" for the
  // search), and whether loading has begun (then the choice is final).
  std::mutex choice_mutex;
  std::string chosen_path;
  bool load_started = false;
};

// Never destroyed: handles and messages may be used by threads still running
// while the process exits.
Library &library() {
  static Library *const instance = new Library;
  return *instance;
}

// What the messages call the library: the chosen file, or the search's name.
std::string library_name(const std::string &chosen_path) {
  return chosen_path.empty() ? std::string(NAT_ART_LIBCURL_SONAME) : chosen_path;
}

std::string not_loaded(const std::string &name, const std::string &why) {
  return name + " could not be loaded: " + why;
}

#ifdef _WIN32
std::string windows_error(DWORD code) {
  char *text = nullptr;
  DWORD n = ::FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
      code, 0, reinterpret_cast<char *>(&text), 0, nullptr);
  std::string message = n > 0 && text ? std::string(text, n) : "error " + std::to_string(code);
  if (text) ::LocalFree(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

// The folder of the DLL this code is linked into, with a trailing separator.
std::wstring plugin_folder() {
  HMODULE self = nullptr;
  if (!::GetModuleHandleExW(
          GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
          reinterpret_cast<LPCWSTR>(&plugin_folder), &self)) {
    return std::wstring();
  }
  std::wstring path(32768, L'\0');
  DWORD n = ::GetModuleFileNameW(self, &path[0], static_cast<DWORD>(path.size()));
  if (n == 0 || n >= path.size()) return std::wstring();
  path.resize(n);
  std::size_t slash = path.find_last_of(L"\\/");
  return slash == std::wstring::npos ? std::wstring() : path.substr(0, slash + 1);
}

void *open_libcurl(std::string &why) {
  static const wchar_t *const kNames[] = {L"libcurl-x64.dll", L"libcurl.dll", L"libcurl-4.dll"};
  const std::wstring folder = plugin_folder();
  if (!folder.empty()) {
    for (const wchar_t *name : kNames) {
      std::wstring path = folder + name;
      if (::GetFileAttributesW(path.c_str()) == INVALID_FILE_ATTRIBUTES) continue;
      // Its own dependencies are looked up beside it first.
      HMODULE h = ::LoadLibraryExW(path.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
      if (h != nullptr) return reinterpret_cast<void *>(h);
    }
  }
  DWORD last = 0;
  for (const wchar_t *name : kNames) {
    HMODULE h = ::LoadLibraryW(name);
    if (h != nullptr) return reinterpret_cast<void *>(h);
    last = ::GetLastError();
  }
  why = "none of libcurl-x64.dll, libcurl.dll, libcurl-4.dll beside the plugin or in the DLL search path (" +
        windows_error(last) + ")";
  return nullptr;
}

// Exactly the file `path` (UTF-8); the DLLs it imports are looked up beside
// it first.
void *open_libcurl_file(const std::string &path, std::string &why) {
  std::error_code error;
  std::filesystem::path file = std::filesystem::absolute(std::filesystem::u8path(path), error);
  if (error) file = std::filesystem::u8path(path);
  HMODULE h = ::LoadLibraryExW(file.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
  if (h == nullptr) why = windows_error(::GetLastError());
  return reinterpret_cast<void *>(h);
}

void *find_symbol(void *handle, const char *name, std::string &why) {
  FARPROC p = ::GetProcAddress(reinterpret_cast<HMODULE>(handle), name);
  if (p == nullptr) why = windows_error(::GetLastError());
  return reinterpret_cast<void *>(p);
}
#else
void *open_named(const char *name, std::string &why) {
  void *handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char *text = ::dlerror();
    why = text ? text : "dlopen failed";
  }
  return handle;
}

void *open_libcurl(std::string &why) { return open_named(NAT_ART_LIBCURL_SONAME, why); }

// Exactly the file `path`: it has a '/', so dlopen does not search.
void *open_libcurl_file(const std::string &path, std::string &why) { return open_named(path.c_str(), why); }

void *find_symbol(void *handle, const char *name, std::string &why) {
  ::dlerror();
  void *symbol = ::dlsym(handle, name);
  if (symbol == nullptr) {
    const char *text = ::dlerror();
    if (text) why = text;
  }
  return symbol;
}
#endif

template <typename F>
bool resolve(void *handle, const char *name, F &slot, const std::string &library, std::string &error) {
  std::string why;
  void *symbol = find_symbol(handle, name, why);
  if (symbol == nullptr) {
    const char *text = why.empty() ? nullptr : why.c_str();
    error = not_loaded(
        library, std::string("it has no ") + name + (text ? std::string(" (") + text + ")" : std::string()));
    return false;
  }
  slot = reinterpret_cast<F>(symbol);
  return true;
}

void load(Library &lib) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(lib.choice_mutex);
    lib.load_started = true;
    path = lib.chosen_path;
  }
  const std::string name = library_name(path);
  std::string why;
  void *handle = path.empty() ? open_libcurl(why) : open_libcurl_file(path, why);
  if (handle == nullptr) {
    lib.error = not_loaded(name, why);
    return;
  }
  // The handle is never closed: libcurl and OpenSSL register process-exit
  // handlers and keep global state for the rest of the process.
  Functions f;
  if (!resolve(handle, "curl_global_init", f.global_init, name, lib.error) ||
      !resolve(handle, "curl_version_info", f.version_info, name, lib.error) ||
      !resolve(handle, "curl_easy_init", f.easy_init, name, lib.error) ||
      !resolve(handle, "curl_easy_setopt", f.easy_setopt, name, lib.error) ||
      !resolve(handle, "curl_easy_perform", f.easy_perform, name, lib.error) ||
      !resolve(handle, "curl_easy_getinfo", f.easy_getinfo, name, lib.error) ||
      !resolve(handle, "curl_easy_cleanup", f.easy_cleanup, name, lib.error) ||
      !resolve(handle, "curl_easy_strerror", f.easy_strerror, name, lib.error) ||
      !resolve(handle, "curl_slist_append", f.slist_append, name, lib.error) ||
      !resolve(handle, "curl_slist_free_all", f.slist_free_all, name, lib.error) ||
      !resolve(handle, "curl_url", f.url, name, lib.error) ||
      !resolve(handle, "curl_url_cleanup", f.url_cleanup, name, lib.error) ||
      !resolve(handle, "curl_url_set", f.url_set, name, lib.error) ||
      !resolve(handle, "curl_url_get", f.url_get, name, lib.error) ||
      !resolve(handle, "curl_free", f.free_memory, name, lib.error)) {
    return;
  }
  const curl_version_info_data *version = f.version_info(CURLVERSION_NOW);
  if (version == nullptr || version->version_num < kMinimumVersion) {
    lib.error = not_loaded(name, std::string("it is version ") +
                                     (version && version->version ? version->version : "?") + "; " +
                                     kMinimumVersionText + " or newer is needed");
    return;
  }
  CURLcode rc = f.global_init(lib.global_flags.load());
  if (rc != CURLE_OK) {
    lib.error = not_loaded(name, std::string("curl_global_init failed: ") + f.easy_strerror(rc));
    return;
  }
  lib.fn = f;
  lib.usable = true;
}

// The library, loaded on the first call.
const Library &loaded() {
  Library &lib = library();
  std::call_once(lib.once, [&lib] {
    load(lib);
    lib.tried.store(true, std::memory_order_release);
  });
  return lib;
}

// What curl_easy_init hands out when libcurl could not be loaded: it keeps
// the error buffer so that perform can say why.
struct Placeholder {
  char *error_buffer = nullptr;
};

Placeholder *placeholder(CURL *handle) { return static_cast<Placeholder *>(handle); }

}  // namespace

bool load_libcurl(std::string *why) {
  const Library &lib = loaded();
  if (!lib.usable && why != nullptr) *why = lib.error;
  return lib.usable;
}

bool libcurl_loaded() {
  const Library &lib = library();
  return lib.tried.load(std::memory_order_acquire) && lib.usable;
}

bool choose_libcurl(const std::string &path, std::string *why) {
  Library &lib = library();
  std::lock_guard<std::mutex> lock(lib.choice_mutex);
  if (lib.chosen_path == path) return true;
  std::string reason;
  if (lib.load_started) {
    reason = "libcurl is already loaded in this process from " +
             (lib.chosen_path.empty() ? "the search for " + std::string(NAT_ART_LIBCURL_SONAME)
                                      : lib.chosen_path) +
             "; a process loads one libcurl";
  } else if (lib.chosen_path.empty()) {
    lib.chosen_path = path;
    return true;
  } else {
    reason = "another adapter in this process chose " + lib.chosen_path + "; a process loads one libcurl";
  }
  if (why != nullptr) *why = "native.libcurl_path " + path + " cannot be used: " + reason;
  return false;
}

namespace url_api {

CURLU *create() {
  const Library &lib = loaded();
  return lib.usable ? lib.fn.url() : nullptr;
}

void cleanup(CURLU *url) {
  if (url == nullptr) return;
  const Library &lib = loaded();
  if (lib.usable) lib.fn.url_cleanup(url);
}

CURLUcode set(CURLU *url, CURLUPart what, const char *part, unsigned int flags) {
  const Library &lib = loaded();
  if (!lib.usable || url == nullptr) return CURLUE_BAD_HANDLE;
  return lib.fn.url_set(url, what, part, flags);
}

CURLUcode get(CURLU *url, CURLUPart what, char **part, unsigned int flags) {
  if (part != nullptr) *part = nullptr;
  const Library &lib = loaded();
  if (!lib.usable || url == nullptr) return CURLUE_BAD_HANDLE;
  return lib.fn.url_get(url, what, part, flags);
}

void free_string(char *part) {
  if (part == nullptr) return;
  const Library &lib = loaded();
  if (lib.usable) lib.fn.free_memory(part);
}

}  // namespace url_api

}  // namespace nat::http

using nat::http::loaded;
using nat::http::Placeholder;

extern "C" {

// Only records the flags: the real curl_global_init runs once libcurl is
// loaded, at the first request. Calls after that change nothing (libcurl
// is initialised once per process by this plugin).
NAT_CURL_HIDDEN CURLcode curl_global_init(long flags) {
  nat::http::library().global_flags.store(flags);
  return CURLE_OK;
}

NAT_CURL_HIDDEN CURL *curl_easy_init(void) {
  const auto &lib = loaded();
  if (lib.usable) return lib.fn.easy_init();
  return new (std::nothrow) Placeholder;
}

// Dispatches on the option's type range, as libcurl itself reads the
// argument: long, object/string/slist/callback-data pointer, function
// pointer, curl_off_t, struct curl_blob *.
NAT_CURL_HIDDEN CURLcode curl_easy_setopt(CURL *handle, CURLoption option, ...) {
  const auto &lib = loaded();
  va_list args;
  va_start(args, option);
  CURLcode rc = CURLE_OK;
  const int tag = static_cast<int>(option);
  if (!lib.usable) {
    if (handle == nullptr) {
      rc = CURLE_BAD_FUNCTION_ARGUMENT;
    } else if (option == CURLOPT_ERRORBUFFER) {
      nat::http::placeholder(handle)->error_buffer = va_arg(args, char *);
    }
  } else if (tag < CURLOPTTYPE_OBJECTPOINT) {
    rc = lib.fn.easy_setopt(handle, option, va_arg(args, long));
  } else if (tag < CURLOPTTYPE_FUNCTIONPOINT) {
    rc = lib.fn.easy_setopt(handle, option, va_arg(args, void *));
  } else if (tag < CURLOPTTYPE_OFF_T) {
    rc = lib.fn.easy_setopt(handle, option, va_arg(args, void (*)(void)));
  } else if (tag < CURLOPTTYPE_BLOB) {
    rc = lib.fn.easy_setopt(handle, option, va_arg(args, curl_off_t));
  } else if (tag < CURLOPTTYPE_BLOB + 10000) {
    rc = lib.fn.easy_setopt(handle, option, va_arg(args, struct curl_blob *));
  } else {
    rc = CURLE_UNKNOWN_OPTION;
  }
  va_end(args);
  return rc;
}

NAT_CURL_HIDDEN CURLcode curl_easy_perform(CURL *handle) {
  const auto &lib = loaded();
  if (lib.usable) return lib.fn.easy_perform(handle);
  if (handle == nullptr) return CURLE_BAD_FUNCTION_ARGUMENT;
  if (char *buffer = nat::http::placeholder(handle)->error_buffer) {
    std::strncpy(buffer, lib.error.c_str(), CURL_ERROR_SIZE - 1);
    buffer[CURL_ERROR_SIZE - 1] = '\0';
  }
  return CURLE_FAILED_INIT;
}

// Every CURLINFO_* argument is a pointer to where the value goes.
NAT_CURL_HIDDEN CURLcode curl_easy_getinfo(CURL *handle, CURLINFO info, ...) {
  const auto &lib = loaded();
  va_list args;
  va_start(args, info);
  void *out = va_arg(args, void *);
  va_end(args);
  if (lib.usable) return lib.fn.easy_getinfo(handle, info, out);
  if (out != nullptr) {
    switch (static_cast<int>(info) & CURLINFO_TYPEMASK) {
      case CURLINFO_LONG:
        *static_cast<long *>(out) = 0;
        break;
      case CURLINFO_DOUBLE:
        *static_cast<double *>(out) = 0;
        break;
      case CURLINFO_OFF_T:
        *static_cast<curl_off_t *>(out) = 0;
        break;
      case CURLINFO_SOCKET:
        *static_cast<curl_socket_t *>(out) = CURL_SOCKET_BAD;
        break;
      default:  // string, slist, pointer
        *static_cast<void **>(out) = nullptr;
        break;
    }
  }
  return CURLE_FAILED_INIT;
}

NAT_CURL_HIDDEN void curl_easy_cleanup(CURL *handle) {
  const auto &lib = loaded();
  if (lib.usable) {
    lib.fn.easy_cleanup(handle);
  } else {
    delete nat::http::placeholder(handle);
  }
}

NAT_CURL_HIDDEN const char *curl_easy_strerror(CURLcode code) {
  const auto &lib = loaded();
  if (lib.usable) return lib.fn.easy_strerror(code);
  return code == CURLE_FAILED_INIT ? lib.error.c_str() : "libcurl is not available";
}

// Without libcurl no list is ever built (NULL is curl's "out of memory"
// answer; the request then fails at perform anyway).
NAT_CURL_HIDDEN curl_slist *curl_slist_append(curl_slist *list, const char *text) {
  const auto &lib = loaded();
  return lib.usable ? lib.fn.slist_append(list, text) : nullptr;
}

NAT_CURL_HIDDEN void curl_slist_free_all(curl_slist *list) {
  if (list == nullptr) return;
  const auto &lib = loaded();
  if (lib.usable) lib.fn.slist_free_all(list);
}

}  // extern "C"
