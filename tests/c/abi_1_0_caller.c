/* A caller written against ABI 1.0 only: it declares the 1.0 functions as
 * the 1.0 header did (abi_1_0_prototypes.h; the build fails if a signature
 * changed), loads the plugin given as argv[1] with dlopen (LoadLibrary on
 * Windows) as a 1.0 host did,
 * resolves exactly the 1.0 functions (a missing symbol fails) and runs
 * plugin_info, create, convert of a small collection and destroy.
 * Runtime: a few milliseconds. */
#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#endif
#include <nat/trainer_adapter.h>
#include <stdio.h>
#include <string.h>

#include "abi_1_0_prototypes.h"

static const char CONFIG[] =
    "{\"_type\":\"openpipe_art_trainer_adapter\",\"backend\":{\"ip\":\"127.0.0.1\",\"port\":9}}";
static const char COLLECTION[] =
    "{\"run_id\":\"abi10\",\"trajectories\":[[{\"episode\":[{\"role\":\"user\",\"content\":\"2+2?\"},"
    "{\"role\":\"assistant\",\"content\":\"4\",\"logprobs\":{\"content\":[{\"token\":\"token_id:19\","
    "\"logprob\":-0.1,"
    "\"top_logprobs\":[]}]}}],\"reward\":1.0}]]}";

#ifdef _WIN32
static HMODULE handle;
/* memcpy: ISO C has no cast between function and object pointers. */
static void *dlsym(HMODULE library, const char *name) {
  FARPROC function = GetProcAddress(library, name);
  void *address;
  memcpy(&address, &function, sizeof address);
  return address;
}
#else
static void *handle;
#endif
static int failed;

static void *need(const char *name) {
  void *p = dlsym(handle, name);
  if (!p) {
    fprintf(stderr, "abi_1_0_caller: the plugin does not export %s\n", name);
    failed = 1;
  }
  return p;
}

/* memcpy: ISO C has no cast from an object pointer to a function pointer. */
#define RESOLVE(name)                                   \
  __typeof__(&nat_trainer_adapter_##name) name;         \
  do {                                                  \
    void *address = need("nat_trainer_adapter_" #name); \
    memcpy(&name, &address, sizeof address);            \
  } while (0)

int main(int argc, char **argv) {
  nat_trainer_adapter *adapter = NULL;
  nat_trainer_adapter_buffer *body = NULL;
  nat_trainer_adapter_error *err;
  uint32_t version;
  const char *info;
  if (argc != 2) {
    fprintf(stderr, "usage: abi_1_0_caller PLUGIN.so\n");
    return 2;
  }
#ifdef _WIN32
  handle = LoadLibraryA(argv[1]);
  if (!handle) {
    fprintf(stderr, "abi_1_0_caller: LoadLibrary(%s) failed: error %lu\n", argv[1],
            (unsigned long)GetLastError());
    return 1;
  }
#else
  handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "abi_1_0_caller: %s\n", dlerror());
    return 1;
  }
#endif
  {
    RESOLVE(abi_version);
    RESOLVE(plugin_info);
    RESOLVE(error_code);
    RESOLVE(error_message);
    RESOLVE(error_free);
    RESOLVE(buffer_data);
    RESOLVE(buffer_size);
    RESOLVE(buffer_free);
    RESOLVE(create);
    RESOLVE(destroy);
    RESOLVE(initialize);
    RESOLVE(is_healthy);
    RESOLVE(submit);
    RESOLVE(status);
    RESOLVE(wait_until_complete);
    RESOLVE(cancel);
    RESOLVE(jobs);
    RESOLVE(next_event);
    RESOLVE(log_progress);
    RESOLVE(convert);
    if (failed) return 1;
    (void)initialize, (void)is_healthy, (void)submit, (void)status, (void)wait_until_complete;
    (void)cancel, (void)jobs, (void)next_event, (void)log_progress, (void)error_message;

    version = abi_version();
    if ((version >> 16) != 1) {
      fprintf(stderr, "abi_1_0_caller: ABI major %u, expected 1\n", (unsigned)(version >> 16));
      return 1;
    }
    info = plugin_info();
    if (!info || !strstr(info, "\"name\":\"openpipe_art_trainer_adapter\"")) {
      fprintf(stderr, "abi_1_0_caller: unexpected plugin_info\n");
      return 1;
    }
    err = create(CONFIG, strlen(CONFIG), &adapter);
    if (err || !adapter) {
      fprintf(stderr, "abi_1_0_caller: create: %d\n", (int)error_code(err));
      error_free(err);
      return 1;
    }
    err = convert(adapter, COLLECTION, strlen(COLLECTION), &body);
    if (err || !body || buffer_size(body) == 0 || !strstr(buffer_data(body), "\"trajectory_groups\"")) {
      fprintf(stderr, "abi_1_0_caller: convert: %d %s\n", (int)error_code(err),
              body ? buffer_data(body) : "");
      error_free(err);
      return 1;
    }
    buffer_free(body);
    destroy(adapter);
  }
  printf("abi_1_0_caller: ok (plugin ABI %u.%u)\n", (unsigned)(version >> 16), (unsigned)(version & 0xffffu));
  return 0;
}
