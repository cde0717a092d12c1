/* The C ABI exercised from plain C99, linked against the ART plugin: errors,
 * buffers, NULL arguments, double frees, calls after destroy, and an offline
 * convert. No server is needed. */
#include <nat/trainer_adapter.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    ++checks;                                                                  \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

static int32_t code_and_free(nat_trainer_adapter_error *err) {
  int32_t code = nat_trainer_adapter_error_code(err);
  nat_trainer_adapter_error_free(err);
  return code;
}

static const char CONFIG[] =
    "{\"_type\":\"openpipe_art_trainer_adapter\",\"backend\":{\"ip\":\"127.0.0.1\",\"port\":9}}";
static const char COLLECTION[] =
    "{\"run_id\":\"c99\",\"trajectories\":[[{\"episode\":[{\"role\":\"user\",\"content\":\"2+2?\"},"
    "{\"role\":\"assistant\",\"content\":\"4\",\"logprobs\":{\"content\":[{\"token\":\"token_id:19\","
    "\"logprob\":-0.1,"
    "\"top_logprobs\":[]}]}}],\"reward\":1.0}]]}";

int main(void) {
  nat_trainer_adapter *adapter = NULL;
  nat_trainer_adapter_error *err;
  nat_trainer_adapter_buffer *buf = NULL;
  int32_t healthy = 7;
  const char *info;

  CHECK(nat_trainer_adapter_abi_version() == NAT_TRAINER_ADAPTER_ABI_VERSION);
  info = nat_trainer_adapter_plugin_info();
  CHECK(info != NULL && strstr(info, "\"name\":\"openpipe_art_trainer_adapter\"") != NULL);
  CHECK(strstr(info, "\"config_schema\"") != NULL);

  /* NULL-safe accessors. */
  CHECK(nat_trainer_adapter_error_code(NULL) == NAT_TRAINER_ADAPTER_OK);
  CHECK(strcmp(nat_trainer_adapter_error_message(NULL), "") == 0);
  CHECK(nat_trainer_adapter_buffer_size(NULL) == 0);
  CHECK(strcmp(nat_trainer_adapter_buffer_data(NULL), "") == 0);
  nat_trainer_adapter_error_free(NULL);
  nat_trainer_adapter_buffer_free(NULL);
  nat_trainer_adapter_destroy(NULL);

  /* create: bad input gets a clear error and a NULL handle. */
  adapter = (nat_trainer_adapter *)&healthy; /* garbage that must be overwritten */
  err = nat_trainer_adapter_create("{\"backend\":{}}", 14, &adapter);
  CHECK(err != NULL);
  CHECK(nat_trainer_adapter_error_code(err) == NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(strcmp(nat_trainer_adapter_error_message(err), "config: backend.ip: missing required key") == 0);
  CHECK(adapter == NULL);
  nat_trainer_adapter_error_free(err);
  nat_trainer_adapter_error_free(err); /* double free: detected, ignored */
  CHECK(code_and_free(nat_trainer_adapter_create(CONFIG, strlen(CONFIG), NULL)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_create(NULL, 5, &adapter)) == NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_create(NULL, 0, &adapter)) == NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);

  err = nat_trainer_adapter_create(CONFIG, strlen(CONFIG), &adapter);
  CHECK(err == NULL && adapter != NULL);

  /* Offline conversion needs no server. */
  err = nat_trainer_adapter_convert(adapter, COLLECTION, strlen(COLLECTION), &buf);
  CHECK(err == NULL);
  CHECK(buf != NULL && nat_trainer_adapter_buffer_size(buf) == strlen(nat_trainer_adapter_buffer_data(buf)));
  CHECK(strstr(nat_trainer_adapter_buffer_data(buf), "\"trajectory_groups\":[{\"trajectories\":[") != NULL);
  nat_trainer_adapter_buffer_free(buf);
  nat_trainer_adapter_buffer_free(buf); /* double free: detected, ignored */

  /* spooled (ABI 1.1): its arguments are checked at the boundary. */
  buf = (nat_trainer_adapter_buffer *)&healthy;
  CHECK(code_and_free(nat_trainer_adapter_spooled(adapter, NULL, 0, NULL)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_spooled(adapter, "", 0, &buf)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(buf == NULL);
  CHECK(code_and_free(nat_trainer_adapter_spooled(adapter, "a\0b", 3, &buf)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_resubmit(adapter, "", 0, &buf)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);

  /* Validation errors name the item. */
  buf = NULL;
  {
    static const char empty_episode[] =
        "{\"run_id\":\"r\",\"trajectories\":[[{\"episode\":[],\"reward\":1}]]}";
    err = nat_trainer_adapter_convert(adapter, empty_episode, strlen(empty_episode), &buf);
  }
  CHECK(nat_trainer_adapter_error_code(err) == NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(strcmp(nat_trainer_adapter_error_message(err), "trajectories[0][0]: Trajectory episode is empty.") ==
        0);
  CHECK(buf == NULL);
  nat_trainer_adapter_error_free(err);

  /* NULL out-parameters and zero lengths at every entry. */
  CHECK(code_and_free(nat_trainer_adapter_is_healthy(adapter, NULL)) == NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_submit(adapter, COLLECTION, strlen(COLLECTION), NULL)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_submit(adapter, NULL, 0, &buf)) ==
        NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);
  CHECK(code_and_free(nat_trainer_adapter_status(adapter, NULL, 0, &buf)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_status(adapter, "{\"run_id\":\"x\"}", 14, NULL)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_status(adapter, "{\"run_id\":\"x\"}", 14, &buf)) ==
        NAT_TRAINER_ADAPTER_NOT_FOUND);
  CHECK(code_and_free(nat_trainer_adapter_wait_until_complete(adapter, "{\"run_id\":\"x\"}", 14, 0.0, 0.1,
                                                              &buf)) == NAT_TRAINER_ADAPTER_NOT_FOUND);
  CHECK(code_and_free(nat_trainer_adapter_cancel(adapter, NULL, 0)) == NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_next_event(adapter, "{\"run_id\":\"x\"}", 14, 0.0, NULL)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_jobs(adapter, NULL)) == NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_log_progress(adapter, "{}", 2, "{}", 2, NULL)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_convert(adapter, NULL, 0, &buf)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);
  CHECK(code_and_free(nat_trainer_adapter_initialize(adapter, "[", 1)) ==
        NAT_TRAINER_ADAPTER_INVALID_ARGUMENT);

  /* jobs: empty at first. */
  err = nat_trainer_adapter_jobs(adapter, &buf);
  CHECK(err == NULL && strcmp(nat_trainer_adapter_buffer_data(buf), "{\"jobs\":[]}") == 0);
  nat_trainer_adapter_buffer_free(buf);

  /* Nothing listens on port 9: unhealthy, but not an error. */
  err = nat_trainer_adapter_is_healthy(adapter, &healthy);
  CHECK(err == NULL && healthy == 0);

  /* Calls after destroy are refused, not undefined. */
  nat_trainer_adapter_destroy(adapter);
  nat_trainer_adapter_destroy(adapter);
  CHECK(code_and_free(nat_trainer_adapter_jobs(adapter, &buf)) == NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);
  CHECK(code_and_free(nat_trainer_adapter_is_healthy(adapter, &healthy)) ==
        NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);
  CHECK(code_and_free(nat_trainer_adapter_spooled(adapter, NULL, 0, &buf)) ==
        NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);
  CHECK(code_and_free(nat_trainer_adapter_convert((nat_trainer_adapter *)&checks, COLLECTION,
                                                  strlen(COLLECTION), &buf)) ==
        NAT_TRAINER_ADAPTER_FAILED_PRECONDITION);

  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
