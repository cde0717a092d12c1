// libcurl, loaded on first use.
//
// The ART plugin does not link libcurl (no DT_NEEDED entry): loading it
// would map libcurl and the ~30 libraries it needs (OpenSSL, krb5, LDAP,
// nghttp2, libssh...) into every process that merely lists or loads the
// plugin. Instead curl_library.cpp defines, with hidden visibility, the
// libcurl entry points http_client.cpp calls (curl_easy_init/setopt/perform/
// getinfo/cleanup/strerror, curl_slist_append/free_all, curl_global_init);
// each forwards to the real function, resolved with dlsym from
// dlopen(NAT_ART_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL) on the first call
// (std::call_once, so thread-safe). curl_global_init only records its flags:
// the real one runs right after the library is loaded, i.e. at the first
// request (initialize, is_healthy, a submit), never at create.
//
// When libcurl cannot be loaded (missing, too old, a symbol missing) nothing
// crashes: curl_easy_init hands out a placeholder handle whose perform fails
// with CURLE_FAILED_INIT and writes "libcurl.so.4 could not be loaded:
// <dlerror>" into the handle's CURLOPT_ERRORBUFFER, so the adapter's error
// names the library; curl_easy_strerror(CURLE_FAILED_INIT) gives the same
// text.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>

#ifndef NAT_ART_LIBCURL_SONAME
#define NAT_ART_LIBCURL_SONAME "libcurl.so.4"
#endif

namespace nat::http {

// Loads libcurl now if that has not been tried yet (and runs
// curl_global_init). Returns true when it is usable; otherwise false and,
// when `why` is not null, the reason ("libcurl.so.4 could not be loaded:
// ..."). Thread-safe.
bool load_libcurl(std::string *why = nullptr);

// Whether libcurl has been loaded successfully by this plugin (does not try).
bool libcurl_loaded();

// An adapter's native.libcurl_path: the libcurl file to load instead of the
// search above, exactly that file (no search, no fallback). A plugin loads one
// libcurl for the whole process, so the first adapter that names a path
// fixes it (adapters that name none use it too); naming the same path again
// succeeds; naming another one, or any path once libcurl was loaded by the
// search, fails, and `why` names both. The file is loaded at the first
// request, as without the option. Thread-safe.
bool choose_libcurl(const std::string &path, std::string *why);

// What is wrong with `path` as native.libcurl_path, or "" when nothing is: it
// must name a file, with a directory (a bare name would be searched for), and
// hold no control characters.
inline std::string libcurl_path_problem(std::string_view path) {
  if (path.empty()) return "must not be empty";
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return "contains a control character";
  }
#ifdef _WIN32
  const bool has_directory = path.find_first_of("/\\") != std::string_view::npos;
#else
  const bool has_directory = path.find('/') != std::string_view::npos;
#endif
  if (!has_directory) {
    return "must be a path with a directory (e.g. /usr/lib/x86_64-linux-gnu/libcurl.so.4 or "
           "C:\\curl\\bin\\libcurl-x64.dll), not a library name to search for";
  }
  return "";
}

// libcurl's URL API (curl_url, curl_url_set, curl_url_get, curl_url_cleanup,
// curl_free) from the same loaded library, under names of our own (the
// declarations of curl_url_get differ between libcurl versions' headers).
// create() loads libcurl if needed and returns nullptr when it cannot be
// loaded; the others accept what create() returned.
namespace url_api {
CURLU *create();
void cleanup(CURLU *url);
CURLUcode set(CURLU *url, CURLUPart what, const char *part, unsigned int flags);
CURLUcode get(CURLU *url, CURLUPart what, char **part, unsigned int flags);
void free_string(char *part);
}  // namespace url_api

}  // namespace nat::http
