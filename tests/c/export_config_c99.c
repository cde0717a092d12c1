/* The jsonl_export plugin's configuration through the C ABI: native options
 * out of range are refused with a message naming them, whatever their JSON
 * number type (a 64-bit value must not wrap into the range); numeric strings
 * are read as NAT's pydantic models read them; a repeated key and a NUL byte
 * in output_dir are refused, naming the key. */
#include <nat/trainer_adapter.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

static void expect_refused(const char *config, const char *message_part) {
  nat_trainer_adapter *adapter = NULL;
  nat_trainer_adapter_error *err = nat_trainer_adapter_create(config, strlen(config), &adapter);
  if (err == NULL || nat_trainer_adapter_error_code(err) != NAT_TRAINER_ADAPTER_INVALID_ARGUMENT ||
      strstr(nat_trainer_adapter_error_message(err), message_part) == NULL || adapter != NULL) {
    ++failures;
    fprintf(stderr, "not refused as expected: %s -> %s\n", config,
            err ? nat_trainer_adapter_error_message(err) : "OK");
  }
  nat_trainer_adapter_error_free(err);
  nat_trainer_adapter_destroy(adapter);
}

static void expect_accepted(const char *config) {
  nat_trainer_adapter *adapter = NULL;
  nat_trainer_adapter_error *err = nat_trainer_adapter_create(config, strlen(config), &adapter);
  if (err != NULL || adapter == NULL) {
    ++failures;
    fprintf(stderr, "refused: %s -> %s\n", config, nat_trainer_adapter_error_message(err));
  }
  nat_trainer_adapter_error_free(err);
  nat_trainer_adapter_destroy(adapter);
}

int main(void) {
  static const char *const out_of_range[] = {
      "4294967298", "18446744073709551615", "-3",       "1",    "1001", "2.5",
      "\"64.5\"",   "\"sixty-four\"",       "\"1001\"", "\"\"", "true", "[64]"};
  char config[256];
  size_t i;
  for (i = 0; i < sizeof out_of_range / sizeof out_of_range[0]; ++i) {
    snprintf(config, sizeof config, "{\"output_dir\":\"/tmp\",\"native\":{\"max_json_depth\":%s}}",
             out_of_range[i]);
    expect_refused(config, "native.max_json_depth");
  }
  expect_accepted("{\"output_dir\":\"/tmp\",\"native\":{\"max_json_depth\":2}}");
  expect_accepted("{\"output_dir\":\"/tmp\",\"native\":{\"max_json_depth\":1000}}");
  expect_accepted("{\"output_dir\":\"/tmp\",\"native\":{\"max_json_depth\":\"64\"}}");
  expect_accepted("{\"output_dir\":\"/tmp\",\"native\":{\"max_json_depth\":\" 64.0 \"}}");
  expect_refused("{\"output_dir\":\"/tmp\",\"output_dir\":\"/var/tmp\"}",
                 "config: output_dir: duplicate key");
  expect_refused("{\"output_dir\":\"/tmp\",\"native\":{\"validation\":\"strict\",\"validation\":\"compat\"}}",
                 "config: native.validation: duplicate key");
  expect_refused("{\"output_dir\":\"/tmp/a\\u0000b\"}", "config: output_dir: contains a NUL byte");
  if (failures != 0) {
    fprintf(stderr, "%d failures\n", failures);
    return 1;
  }
  printf("export config: all checks passed\n");
  return 0;
}
