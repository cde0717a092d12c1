/* Converts NAT collection files with the openpipe-art plugin and writes, per
 * file, its name and either the converted bytes or the error code and
 * message, into one output file (binary mode): built for Linux and for
 * Windows, the two outputs must be equal byte for byte.
 *
 *   convert_files OUTPUT COLLECTION...  */
#include <nat/trainer_adapter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_all(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  char *data = NULL;
  size_t used = 0, cap = 0, n;
  if (f == NULL) return NULL;
  do {
    if (used == cap) {
      char *grown = realloc(data, cap = cap ? cap * 2 : 65536);
      if (grown == NULL) {
        free(data);
        fclose(f);
        return NULL;
      }
      data = grown;
    }
    n = fread(data + used, 1, cap - used, f);
    used += n;
  } while (n > 0);
  fclose(f);
  *size = used;
  return data;
}

static const char *base_name(const char *path) {
  const char *name = path, *p;
  for (p = path; *p; ++p)
    if (*p == '/' || *p == '\\') name = p + 1;
  return name;
}

int main(int argc, char **argv) {
  static const char config[] =
      "{\"_type\":\"openpipe_art_trainer_adapter\",\"backend\":{\"ip\":\"127.0.0.1\",\"port\":9}}";
  nat_trainer_adapter *adapter = NULL;
  nat_trainer_adapter_error *err;
  FILE *out;
  int i;
  if (argc < 3) {
    fprintf(stderr, "usage: convert_files OUTPUT COLLECTION...\n");
    return 2;
  }
  err = nat_trainer_adapter_create(config, strlen(config), &adapter);
  if (err != NULL) {
    fprintf(stderr, "create: %s\n", nat_trainer_adapter_error_message(err));
    return 1;
  }
  out = fopen(argv[1], "wb");
  if (out == NULL) return 1;
  for (i = 2; i < argc; ++i) {
    size_t size = 0;
    char *input = read_all(argv[i], &size);
    nat_trainer_adapter_buffer *buf = NULL;
    fprintf(out, "=== %s\n", base_name(argv[i]));
    if (input == NULL) {
      fprintf(stderr, "cannot read %s\n", argv[i]);
      return 1;
    }
    err = nat_trainer_adapter_convert(adapter, input, size, &buf);
    if (err != NULL) {
      fprintf(out, "error %d %s\n", (int)nat_trainer_adapter_error_code(err),
              nat_trainer_adapter_error_message(err));
      nat_trainer_adapter_error_free(err);
    } else {
      fprintf(out, "ok %lu\n", (unsigned long)nat_trainer_adapter_buffer_size(buf));
      fwrite(nat_trainer_adapter_buffer_data(buf), 1, nat_trainer_adapter_buffer_size(buf), out);
      fputc('\n', out);
      nat_trainer_adapter_buffer_free(buf);
    }
    free(input);
  }
  nat_trainer_adapter_destroy(adapter);
  return fclose(out) == 0 ? 0 : 1;
}
