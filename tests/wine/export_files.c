/* The jsonl_export plugin writes datasets: each collection file is
 * submitted twice (one run_id, so two dataset files that must not replace
 * each other) and waited for; prints each final status line.
 *
 *   export_files OUTPUT_DIR COLLECTION...  */
#include <nat/trainer_adapter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_all(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  char *data;
  long n;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
    return NULL;
  data = malloc((size_t)n + 1);
  if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) return NULL;
  fclose(f);
  *size = (size_t)n;
  return data;
}

static int fail(const char *what, nat_trainer_adapter_error *err) {
  printf("%s: %s\n", what, nat_trainer_adapter_error_message(err));
  nat_trainer_adapter_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  char config[4096];
  nat_trainer_adapter *adapter = NULL;
  nat_trainer_adapter_error *err;
  int i, k;
  const char *p;
  char *q = config;
  if (argc < 3) return 2;
  q += sprintf(q, "{\"output_dir\":\"");
  for (p = argv[1]; *p && q < config + sizeof config - 8; ++p) {
    if (*p == '\\' || *p == '"') *q++ = '\\';
    *q++ = *p;
  }
  strcpy(q, "\"}");
  err = nat_trainer_adapter_create(config, strlen(config), &adapter);
  if (err != NULL) return fail("create", err);
  for (i = 2; i < argc; ++i) {
    size_t size = 0;
    char *input = read_all(argv[i], &size);
    if (input == NULL) return 1;
    for (k = 0; k < 2; ++k) {
      nat_trainer_adapter_buffer *ref = NULL, *status = NULL;
      err = nat_trainer_adapter_submit(adapter, input, size, &ref);
      if (err != NULL) return fail("submit", err);
      err = nat_trainer_adapter_wait_until_complete(adapter, nat_trainer_adapter_buffer_data(ref),
                                                    nat_trainer_adapter_buffer_size(ref), 0.05, 60, &status);
      nat_trainer_adapter_buffer_free(ref);
      if (err != NULL) return fail("wait", err);
      printf("%s\n", nat_trainer_adapter_buffer_data(status));
      nat_trainer_adapter_buffer_free(status);
    }
    free(input);
  }
  nat_trainer_adapter_destroy(adapter);
  return 0;
}
