/* Compiles the public header alone under strict flags (C99/C11 and, through
 * header_check.cpp, C++11/C++17); the test passes when it builds and runs. */
#include <nat/trainer_adapter.h>
#include <stdio.h>

typedef uint32_t (*abi_version_fn)(void);
typedef nat_trainer_adapter_error *(*create_fn)(const char *, size_t, nat_trainer_adapter **);

int main(void) {
  abi_version_fn v = nat_trainer_adapter_abi_version;
  create_fn c = nat_trainer_adapter_create;
  nat_trainer_adapter_code code = NAT_TRAINER_ADAPTER_INTERNAL;
  (void)v;
  (void)c;
  if (NAT_TRAINER_ADAPTER_ABI_VERSION != 0x00010001u) return 1;
  if (sizeof(nat_trainer_adapter_code) != 4 || (int)code != 8) return 1;
  printf("header ok\n");
  return 0;
}
