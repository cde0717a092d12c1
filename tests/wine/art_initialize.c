/* The openpipe-art plugin DLL through the libcurl DLL it loads: initialize
 * against the ART server on 127.0.0.1:PORT, then the health check.
 *
 *   art_initialize PORT            initialize and is_healthy must succeed
 *   art_initialize PORT missing    initialize must fail: no libcurl DLL
 *
 * Prints the error message of a failed call; exit 0 when the outcome is the
 * expected one. */
#include <nat/trainer_adapter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  char config[256];
  nat_trainer_adapter *adapter = NULL;
  nat_trainer_adapter_error *err;
  int32_t healthy = 0;
  int expect_missing;
  if (argc < 2) {
    fprintf(stderr, "usage: art_initialize PORT [missing]\n");
    return 2;
  }
  expect_missing = argc > 2 && strcmp(argv[2], "missing") == 0;
  snprintf(config, sizeof config,
           "{\"_type\":\"openpipe_art_trainer_adapter\",\"backend\":{\"ip\":\"127.0.0.1\",\"port\":%d}}",
           atoi(argv[1]));
  err = nat_trainer_adapter_create(config, strlen(config), &adapter);
  if (err != NULL) {
    printf("create: %s\n", nat_trainer_adapter_error_message(err));
    nat_trainer_adapter_error_free(err);
    return 1;
  }
  err = nat_trainer_adapter_initialize(adapter, "{}", 2);
  if (err != NULL) {
    int code = nat_trainer_adapter_error_code(err);
    printf("initialize: %d %s\n", code, nat_trainer_adapter_error_message(err));
    nat_trainer_adapter_error_free(err);
    nat_trainer_adapter_destroy(adapter);
    return expect_missing ? 0 : 1;
  }
  if (expect_missing) {
    printf("initialize succeeded without libcurl\n");
    nat_trainer_adapter_destroy(adapter);
    return 1;
  }
  err = nat_trainer_adapter_is_healthy(adapter, &healthy);
  if (err != NULL) {
    printf("is_healthy: %s\n", nat_trainer_adapter_error_message(err));
    nat_trainer_adapter_error_free(err);
    nat_trainer_adapter_destroy(adapter);
    return 1;
  }
  printf("initialized; healthy=%d\n", (int)healthy);
  nat_trainer_adapter_destroy(adapter);
  return healthy == 1 ? 0 : 1;
}
