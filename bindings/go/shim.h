/* C shims of the Go binding: the plugin is opened with dlopen() and every
 * function of include/nat/trainer_adapter.h is reached through a function
 * pointer resolved with dlsym(), so the package has no link-time dependency
 * on any plugin. cgo cannot call C function pointers, hence one small static
 * function per ABI function.
 *
 * bindings/check_declarations.py compares the nta_*_fn typedefs below with
 * the header. When the header is on the include path (in the source tree),
 * each typedef is also checked against the header's prototype at compile
 * time. */
#ifndef NAT_TRAINER_ADAPTER_GO_SHIM_H
#define NAT_TRAINER_ADAPTER_GO_SHIM_H

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include("nat/trainer_adapter.h")
#include "nat/trainer_adapter.h"
#define NTA_HAVE_HEADER 1
#endif
#endif

typedef struct nat_trainer_adapter nat_trainer_adapter;
typedef struct nat_trainer_adapter_error nat_trainer_adapter_error;
typedef struct nat_trainer_adapter_buffer nat_trainer_adapter_buffer;

/* One typedef per function of the ABI, in header order. */
typedef uint32_t (*nta_abi_version_fn)(void);
typedef const char *(*nta_plugin_info_fn)(void);
typedef int32_t (*nta_error_code_fn)(const nat_trainer_adapter_error *error);
typedef const char *(*nta_error_message_fn)(const nat_trainer_adapter_error *error);
typedef void (*nta_error_free_fn)(nat_trainer_adapter_error *error);
typedef const char *(*nta_buffer_data_fn)(const nat_trainer_adapter_buffer *buffer);
typedef size_t (*nta_buffer_size_fn)(const nat_trainer_adapter_buffer *buffer);
typedef void (*nta_buffer_free_fn)(nat_trainer_adapter_buffer *buffer);
typedef nat_trainer_adapter_error *(*nta_create_fn)(const char *config_json, size_t config_len,
                                                    nat_trainer_adapter **out_adapter);
typedef void (*nta_destroy_fn)(nat_trainer_adapter *adapter);
typedef nat_trainer_adapter_error *(*nta_initialize_fn)(nat_trainer_adapter *adapter,
                                                        const char *run_config_json, size_t run_config_len);
typedef nat_trainer_adapter_error *(*nta_is_healthy_fn)(nat_trainer_adapter *adapter, int32_t *out_healthy);
typedef nat_trainer_adapter_error *(*nta_submit_fn)(nat_trainer_adapter *adapter, const char *collection_json,
                                                    size_t collection_len,
                                                    nat_trainer_adapter_buffer **out_job_ref);
typedef nat_trainer_adapter_error *(*nta_status_fn)(nat_trainer_adapter *adapter, const char *job_ref_json,
                                                    size_t job_ref_len,
                                                    nat_trainer_adapter_buffer **out_status);
typedef nat_trainer_adapter_error *(*nta_wait_until_complete_fn)(nat_trainer_adapter *adapter,
                                                                 const char *job_ref_json, size_t job_ref_len,
                                                                 double poll_interval_s, double timeout_s,
                                                                 nat_trainer_adapter_buffer **out_status);
typedef nat_trainer_adapter_error *(*nta_cancel_fn)(nat_trainer_adapter *adapter, const char *job_ref_json,
                                                    size_t job_ref_len);
typedef nat_trainer_adapter_error *(*nta_jobs_fn)(nat_trainer_adapter *adapter,
                                                  nat_trainer_adapter_buffer **out_jobs);
typedef nat_trainer_adapter_error *(*nta_next_event_fn)(nat_trainer_adapter *adapter,
                                                        const char *job_ref_json, size_t job_ref_len,
                                                        double timeout_s,
                                                        nat_trainer_adapter_buffer **out_event_or_null);
typedef nat_trainer_adapter_error *(*nta_log_progress_fn)(nat_trainer_adapter *adapter,
                                                          const char *job_ref_json, size_t job_ref_len,
                                                          const char *metrics_json, size_t metrics_len,
                                                          const char *output_dir_or_null);
typedef nat_trainer_adapter_error *(*nta_convert_fn)(nat_trainer_adapter *adapter,
                                                     const char *collection_json, size_t collection_len,
                                                     nat_trainer_adapter_buffer **out_body);
typedef nat_trainer_adapter_error *(*nta_resubmit_fn)(nat_trainer_adapter *adapter, const char *spool_path,
                                                      size_t spool_path_len,
                                                      nat_trainer_adapter_buffer **out_job_ref);
typedef nat_trainer_adapter_error *(*nta_spooled_fn)(nat_trainer_adapter *adapter, const char *spool_dir,
                                                     size_t spool_dir_len,
                                                     nat_trainer_adapter_buffer **out_json);

#define NTA_FUNCTIONS(X) \
  X(abi_version)         \
  X(plugin_info)         \
  X(error_code)          \
  X(error_message)       \
  X(error_free)          \
  X(buffer_data)         \
  X(buffer_size)         \
  X(buffer_free)         \
  X(create)              \
  X(destroy)             \
  X(initialize)          \
  X(is_healthy)          \
  X(submit)              \
  X(status)              \
  X(wait_until_complete) \
  X(cancel)              \
  X(jobs)                \
  X(next_event)          \
  X(log_progress)        \
  X(convert)             \
  X(resubmit)            \
  X(spooled)

#ifdef NTA_HAVE_HEADER
#define NTA_CHECK(name)                                                                                  \
  _Static_assert(__builtin_types_compatible_p(nta_##name##_fn, __typeof__(&nat_trainer_adapter_##name)), \
                 "Go shim typedef nta_" #name "_fn differs from nat/trainer_adapter.h");
NTA_FUNCTIONS(NTA_CHECK)
#undef NTA_CHECK
#endif

typedef struct nta_api {
  void *handle;
#define NTA_FIELD(name) nta_##name##_fn name;
  NTA_FUNCTIONS(NTA_FIELD)
#undef NTA_FIELD
} nta_api;

/* dlopen()s path and resolves the two bootstrap functions only. Returns NULL
 * and a malloc()ed message in *err on failure. dlerror() is read on the same
 * thread right after the failing call (cgo runs this whole function on one
 * thread). */
static nta_api *nta_open(const char *path, char **err) {
  *err = NULL;
  nta_api *api = (nta_api *)calloc(1, sizeof *api);
  if (!api) {
    *err = strdup("out of memory");
    return NULL;
  }
  api->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!api->handle) {
    const char *e = dlerror();
    *err = strdup(e ? e : "dlopen failed");
    free(api);
    return NULL;
  }
  api->abi_version = (nta_abi_version_fn)dlsym(api->handle, "nat_trainer_adapter_abi_version");
  api->plugin_info = (nta_plugin_info_fn)dlsym(api->handle, "nat_trainer_adapter_plugin_info");
  if (!api->abi_version || !api->plugin_info) {
    *err = strdup(
        "not a trainer adapter plugin: nat_trainer_adapter_abi_version or "
        "nat_trainer_adapter_plugin_info is missing");
    dlclose(api->handle);
    free(api);
    return NULL;
  }
  return api;
}

/* The functions of ABI 1.1; every other one is of 1.0. */
static unsigned nta_since_minor(const char *name) {
  return strcmp(name, "nat_trainer_adapter_resubmit") == 0 ||
         strcmp(name, "nat_trainer_adapter_spooled") == 0;
}

/* Resolves the functions the plugin's ABI version promises, after the major
 * was checked: every function of a minor up to the plugin's (capped at the
 * binding's, 1); the later ones stay NULL (a 1.0 plugin has no resubmit and
 * no spooled). Nothing is probed. Returns the name of the first missing
 * promised function, or NULL. */
static const char *nta_resolve(nta_api *api, uint32_t abi_version) {
  const unsigned usable = (abi_version & 0xffffu) < 1u ? (abi_version & 0xffffu) : 1u;
#define NTA_RESOLVE(name)                                                          \
  api->name = NULL;                                                                \
  if (nta_since_minor("nat_trainer_adapter_" #name) <= usable) {                   \
    api->name = (nta_##name##_fn)dlsym(api->handle, "nat_trainer_adapter_" #name); \
    if (!api->name) return "nat_trainer_adapter_" #name;                           \
  }
  NTA_FUNCTIONS(NTA_RESOLVE)
#undef NTA_RESOLVE
  return NULL;
}

/* Releases a plugin that failed the checks (never one that created adapters). */
static void nta_close(nta_api *api) {
  if (!api) return;
  dlclose(api->handle);
  free(api);
}

static uint32_t nta_abi_version(const nta_api *api) { return api->abi_version(); }
static const char *nta_plugin_info(const nta_api *api) { return api->plugin_info(); }
static int32_t nta_error_code(const nta_api *api, const nat_trainer_adapter_error *e) {
  return api->error_code(e);
}
static const char *nta_error_message(const nta_api *api, const nat_trainer_adapter_error *e) {
  return api->error_message(e);
}
static void nta_error_free(const nta_api *api, nat_trainer_adapter_error *e) { api->error_free(e); }
static const char *nta_buffer_data(const nta_api *api, const nat_trainer_adapter_buffer *b) {
  return api->buffer_data(b);
}
static size_t nta_buffer_size(const nta_api *api, const nat_trainer_adapter_buffer *b) {
  return api->buffer_size(b);
}
static void nta_buffer_free(const nta_api *api, nat_trainer_adapter_buffer *b) { api->buffer_free(b); }
static nat_trainer_adapter_error *nta_create(const nta_api *api, const char *c, size_t n,
                                             nat_trainer_adapter **out) {
  return api->create(c, n, out);
}
static void nta_destroy(const nta_api *api, nat_trainer_adapter *a) { api->destroy(a); }
static nat_trainer_adapter_error *nta_initialize(const nta_api *api, nat_trainer_adapter *a, const char *c,
                                                 size_t n) {
  return api->initialize(a, c, n);
}
static nat_trainer_adapter_error *nta_is_healthy(const nta_api *api, nat_trainer_adapter *a, int32_t *out) {
  return api->is_healthy(a, out);
}
static nat_trainer_adapter_error *nta_submit(const nta_api *api, nat_trainer_adapter *a, const char *c,
                                             size_t n, nat_trainer_adapter_buffer **out) {
  return api->submit(a, c, n, out);
}
static nat_trainer_adapter_error *nta_status(const nta_api *api, nat_trainer_adapter *a, const char *r,
                                             size_t n, nat_trainer_adapter_buffer **out) {
  return api->status(a, r, n, out);
}
static nat_trainer_adapter_error *nta_wait_until_complete(const nta_api *api, nat_trainer_adapter *a,
                                                          const char *r, size_t n, double poll,
                                                          double timeout, nat_trainer_adapter_buffer **out) {
  return api->wait_until_complete(a, r, n, poll, timeout, out);
}
static nat_trainer_adapter_error *nta_cancel(const nta_api *api, nat_trainer_adapter *a, const char *r,
                                             size_t n) {
  return api->cancel(a, r, n);
}
static nat_trainer_adapter_error *nta_jobs(const nta_api *api, nat_trainer_adapter *a,
                                           nat_trainer_adapter_buffer **out) {
  return api->jobs(a, out);
}
static nat_trainer_adapter_error *nta_next_event(const nta_api *api, nat_trainer_adapter *a, const char *r,
                                                 size_t n, double timeout, nat_trainer_adapter_buffer **out) {
  return api->next_event(a, r, n, timeout, out);
}
static nat_trainer_adapter_error *nta_log_progress(const nta_api *api, nat_trainer_adapter *a, const char *r,
                                                   size_t rn, const char *m, size_t mn, const char *dir) {
  return api->log_progress(a, r, rn, m, mn, dir);
}
static nat_trainer_adapter_error *nta_convert(const nta_api *api, nat_trainer_adapter *a, const char *c,
                                              size_t n, nat_trainer_adapter_buffer **out) {
  return api->convert(a, c, n, out);
}
/* api->resubmit and api->spooled are NULL for a 1.0 plugin; the Go caller checks. */
static nat_trainer_adapter_error *nta_resubmit(const nta_api *api, nat_trainer_adapter *a, const char *path,
                                               size_t n, nat_trainer_adapter_buffer **out) {
  return api->resubmit(a, path, n, out);
}
static nat_trainer_adapter_error *nta_spooled(const nta_api *api, nat_trainer_adapter *a, const char *dir,
                                              size_t n, nat_trainer_adapter_buffer **out) {
  return api->spooled(a, dir, n, out);
}

#endif
