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
