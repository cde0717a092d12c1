/* A fake trainer adapter plugin for the binding's unit tests: it implements
 * the whole C ABI with canned answers, so the ctypes layer (errors, buffers,
 * out-parameters, events, search order) is tested without a backend.
 * Compiled by the tests with -DFAKE_NAME="..." [-DFAKE_ABI=...]
 * [-DFAKE_ABI_1_0] (an ABI 1.0 plugin: no resubmit, no spooled)
 * [-DFAKE_WITHOUT_SPOOLED] (claims ABI 1.1 but lacks spooled). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/trainer_adapter.h"

#ifndef FAKE_NAME
#define FAKE_NAME "fake_trainer_adapter"
#endif
#ifdef FAKE_ABI_1_0
#define FAKE_MINOR 0
#else
#define FAKE_MINOR 1
#endif
#ifndef FAKE_ABI
#define FAKE_ABI ((NAT_TRAINER_ADAPTER_ABI_MAJOR << 16) | FAKE_MINOR)
#endif

struct nat_trainer_adapter_error {
  int32_t code;
  char *message;
};
struct nat_trainer_adapter_buffer {
  size_t size;
  char *data;
};
struct nat_trainer_adapter {
  int events;
};

/* Counters the tests read with ctypes .in_dll(). */
NAT_TRAINER_ADAPTER_API int fake_errors_freed = 0;
NAT_TRAINER_ADAPTER_API int fake_buffers_freed = 0;
NAT_TRAINER_ADAPTER_API int fake_destroyed = 0;
NAT_TRAINER_ADAPTER_API char fake_last_dir[512] = "";
NAT_TRAINER_ADAPTER_API double fake_last_timeout = 0.0;
NAT_TRAINER_ADAPTER_API char fake_last_spool_path[512] = "";
NAT_TRAINER_ADAPTER_API size_t fake_last_spool_path_len = 0;

static nat_trainer_adapter_error *err(int32_t code, const char *msg) {
  nat_trainer_adapter_error *e = malloc(sizeof *e);
  e->code = code;
  e->message = strdup(msg);
  return e;
}

static nat_trainer_adapter_buffer *buf(const char *data, size_t n) {
  nat_trainer_adapter_buffer *b = malloc(sizeof *b);
  b->size = n;
  b->data = malloc(n + 1);
  memcpy(b->data, data, n);
  b->data[n] = '\0';
  return b;
}

static nat_trainer_adapter_buffer *sbuf(const char *s) { return buf(s, strlen(s)); }

static int contains(const char *p, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; p && i + k <= n; ++i)
    if (memcmp(p + i, needle, k) == 0) return 1;
  return 0;
}

uint32_t nat_trainer_adapter_abi_version(void) { return FAKE_ABI; }

const char *nat_trainer_adapter_plugin_info(void) {
  return "{\"name\":\"" FAKE_NAME "\",\"backend\":\"fake\",\"version\":\"0.0.1\",\"abi\":\"" NAT_TRAINER_ADAPTER_ABI_TEXT(NAT_TRAINER_ADAPTER_ABI_MAJOR, FAKE_MINOR) "\","
         "\"description\":\"fake\",\"config_schema\":{}}";
}

int32_t nat_trainer_adapter_error_code(const nat_trainer_adapter_error *e) { return e ? e->code : 0; }
const char *nat_trainer_adapter_error_message(const nat_trainer_adapter_error *e) {
  return e ? e->message : "";
}
void nat_trainer_adapter_error_free(nat_trainer_adapter_error *e) {
  if (!e) return;
  ++fake_errors_freed;
  free(e->message);
  free(e);
}

const char *nat_trainer_adapter_buffer_data(const nat_trainer_adapter_buffer *b) { return b ? b->data : ""; }
size_t nat_trainer_adapter_buffer_size(const nat_trainer_adapter_buffer *b) { return b ? b->size : 0; }
void nat_trainer_adapter_buffer_free(nat_trainer_adapter_buffer *b) {
  if (!b) return;
  ++fake_buffers_freed;
  free(b->data);
  free(b);
}

nat_trainer_adapter_error *nat_trainer_adapter_create(const char *c, size_t n, nat_trainer_adapter **out) {
  if (!out) return err(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_adapter is NULL");
  *out = NULL;
  if (n == 0 || contains(c, n, "\"fail\""))
    return err(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "bad config: fail");
  *out = calloc(1, sizeof **out);
  return NULL;
}

void nat_trainer_adapter_destroy(nat_trainer_adapter *a) {
  if (!a) return;
  ++fake_destroyed;
  free(a);
}

nat_trainer_adapter_error *nat_trainer_adapter_initialize(nat_trainer_adapter *a, const char *c, size_t n) {
  (void)a;
  if (contains(c, n, "unreachable"))
    return err(NAT_TRAINER_ADAPTER_UNAVAILABLE, "Failed to connect to ART backend. (fake)");
  return NULL;
}

nat_trainer_adapter_error *nat_trainer_adapter_is_healthy(nat_trainer_adapter *a, int32_t *out) {
  (void)a;
  if (!out) return err(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_healthy is NULL");
  *out = 1;
  return NULL;
}

#define REF "{\"run_id\":\"r1\",\"backend\":\"fake\",\"metadata\":{\"job_id\":1}}"
#define STATUS                                                                           \
  "{\"run_id\":\"r1\",\"backend\":\"fake\",\"status\":\"completed\",\"progress\":100.0," \
  "\"message\":\"done\",\"metadata\":{\"steps\":1}}"

static nat_trainer_adapter_error *lookup(const char *r, size_t n) {
  if (contains(r, n, "nope")) return err(NAT_TRAINER_ADAPTER_NOT_FOUND, "no job with run_id 'nope'");
  if (contains(r, n, "weird")) return err(42, "a code from the future");
  return NULL;
}

nat_trainer_adapter_error *nat_trainer_adapter_submit(nat_trainer_adapter *a, const char *c, size_t n,
                                                      nat_trainer_adapter_buffer **out) {
  (void)a;
  if (!out) return err(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_job_ref is NULL");
  *out = NULL;
  if (contains(c, n, "\"role\":\"assistant\",\"content\":\"first\""))
    return err(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT,
               "trajectories[0][0].episode[0]: The first message in the trajectory must be from 'user' or "
               "'system'.");
  *out = sbuf(REF);
  return NULL;
}

nat_trainer_adapter_error *nat_trainer_adapter_status(nat_trainer_adapter *a, const char *r, size_t n,
                                                      nat_trainer_adapter_buffer **out) {
  (void)a;
  *out = NULL;
  nat_trainer_adapter_error *e = lookup(r, n);
  if (e) return e;
  *out = sbuf(STATUS);
  return NULL;
}

nat_trainer_adapter_error *nat_trainer_adapter_wait_until_complete(nat_trainer_adapter *a, const char *r,
                                                                   size_t n, double poll, double timeout,
                                                                   nat_trainer_adapter_buffer **out) {
  (void)poll;
  fake_last_timeout = timeout;
  if (timeout > 0 && timeout < 0.001) {
    *out = NULL;
    return err(NAT_TRAINER_ADAPTER_DEADLINE_EXCEEDED, "timed out");
  }
  return nat_trainer_adapter_status(a, r, n, out);
}

nat_trainer_adapter_error *nat_trainer_adapter_cancel(nat_trainer_adapter *a, const char *r, size_t n) {
  (void)a;
  return lookup(r, n);
}

nat_trainer_adapter_error *nat_trainer_adapter_jobs(nat_trainer_adapter *a,
                                                    nat_trainer_adapter_buffer **out) {
  (void)a;
  *out = sbuf("{\"jobs\":[{\"job_ref\":" REF ",\"status\":" STATUS "}]}");
  return NULL;
}

nat_trainer_adapter_error *nat_trainer_adapter_next_event(nat_trainer_adapter *a, const char *r, size_t n,
                                                          double timeout, nat_trainer_adapter_buffer **out) {
  *out = NULL;
  fake_last_timeout = timeout;
  nat_trainer_adapter_error *e = lookup(r, n);
  if (e) return e;
  if (contains(r, n, "silent")) return NULL; /* never any event: a timeout */
  char text[256];
  switch (a->events) {
    case 0:
      snprintf(text, sizeof text, "{\"run_id\":\"r1\",\"job_id\":1,\"seq\":0,\"type\":\"started\"}");
      break;
    case 1:
      snprintf(
          text, sizeof text,
          "{\"run_id\":\"r1\",\"job_id\":1,\"seq\":1,\"type\":\"step\",\"step\":1,\"num_gradient_steps\":1,"
          "\"metrics\":{\"loss\":0.5}}");
      break;
    case 2:
      snprintf(
          text, sizeof text,
          "{\"run_id\":\"r1\",\"job_id\":1,\"seq\":2,\"type\":\"completed\",\"final\":true,\"status\":" STATUS
          "}");
      break;
    default:
      return NULL;
  }
  ++a->events;
  *out = sbuf(text);
  return NULL;
}

nat_trainer_adapter_error *nat_trainer_adapter_log_progress(nat_trainer_adapter *a, const char *r, size_t rn,
                                                            const char *m, size_t mn, const char *dir) {
  (void)a;
  (void)r;
  (void)rn;
  if (mn == 0 || m[0] != '{')
    return err(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "metrics must be a JSON object");
  snprintf(fake_last_dir, sizeof fake_last_dir, "%s", dir ? dir : "(null)");
  return NULL;
}

nat_trainer_adapter_error *nat_trainer_adapter_convert(nat_trainer_adapter *a, const char *c, size_t n,
                                                       nat_trainer_adapter_buffer **out) {
  (void)a;
  *out = buf(c, n); /* echo */
  return NULL;
}

#ifndef FAKE_ABI_1_0
nat_trainer_adapter_error *nat_trainer_adapter_resubmit(nat_trainer_adapter *a, const char *p, size_t n,
                                                        nat_trainer_adapter_buffer **out) {
  (void)a;
  if (!out) return err(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_job_ref is NULL");
  *out = NULL;
  if (n >= sizeof fake_last_spool_path)
    return err(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "spool_path too long");
  memcpy(fake_last_spool_path, p, n); /* exactly n bytes: the path is not NUL-terminated */
  fake_last_spool_path[n] = '\0';
  fake_last_spool_path_len = n;
  if (contains(p, n, "missing")) {
    char text[600];
    snprintf(text, sizeof text, "spool: cannot open %.*s: No such file or directory", (int)n, p);
    return err(NAT_TRAINER_ADAPTER_NOT_FOUND, text);
  }
  *out = sbuf(REF);
  return NULL;
}
#endif

#if !defined(FAKE_ABI_1_0) && !defined(FAKE_WITHOUT_SPOOLED)
nat_trainer_adapter_error *nat_trainer_adapter_spooled(nat_trainer_adapter *a, const char *dir, size_t n,
                                                       nat_trainer_adapter_buffer **out) {
  (void)a;
  if (!out) return err(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_json is NULL");
  *out = sbuf(dir ? "{\"spool_dir_source\":\"argument\",\"collections\":[]}"
                  : "{\"spool_dir_source\":\"default\",\"collections\":[]}");
  (void)n;
  return NULL;
}
#endif
