// libFuzzer harness: the adapter config parser.
//
// Input: the config JSON text as the C ABI receives it (nat_trainer_adapter_create).
// Contract checked: parse_adapter_config() either returns a config that obeys
// the documented ranges (NativeOptions::kMin*/kMax*: every numeric option
// bounded, so the adapter's later conversions to integers cannot overflow)
// or throws nat::Error(InvalidArgument). Any other
// exception escaping, a sanitizer report, or a broken invariant is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/error.h"
#include "config/adapter_config.h"
#include "json/small_json.h"

namespace {

[[noreturn]] void invariant_failed(const char *what) {
  std::fprintf(stderr, "config_fuzzer: invariant failed: %s\n", what);
  std::abort();
}
#define CHECK(cond)                       \
  do {                                    \
    if (!(cond)) invariant_failed(#cond); \
  } while (0)

constexpr std::string_view kType = "openpipe_art_trainer_adapter";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    nat::AdapterConfig c = nat::parse_adapter_config(text, kType);
    CHECK(c.type.empty() || c.type == kType);
    CHECK(!c.backend.ip.empty());
    CHECK(c.backend.port >= 1 && c.backend.port <= 65535);
    CHECK(!c.backend.name.empty());
    CHECK(!c.backend.project.empty());
    CHECK(c.backend.init_args.is_null() || c.backend.init_args.is_object());
    CHECK(c.backend.engine_args.is_null() || c.backend.engine_args.is_object());
    CHECK(c.backend.server_config.is_null() || c.backend.server_config.is_object());
    CHECK(c.training.is_null() || c.training.is_object());
    CHECK(c.reward.is_null() || c.reward.is_object());
    CHECK(std::isfinite(c.learning_rate()));
    CHECK(std::isfinite(c.beta()));
    const nat::NativeOptions &n = c.native;
    CHECK(n.scheme == "http" || n.scheme == "https");
    using O = nat::NativeOptions;
    CHECK(n.retries >= 0 && n.retries <= 20 && n.retries <= O::kMaxRetries);
    CHECK(n.max_json_depth >= 2 && n.max_json_depth <= 1000);
    CHECK(n.max_response_bytes >= 1024 && n.max_response_bytes <= static_cast<size_t>(O::kMaxResponseBytes));
    for (double t : {n.connect_timeout_s, n.request_timeout_s, n.get_step_timeout_s, n.prepare_timeout_s,
                     n.health_timeout_s})
      CHECK(std::isfinite(t) && t >= O::kMinTimeoutS && t <= O::kMaxTimeoutS);
    CHECK(std::isfinite(n.retry_backoff_s) && n.retry_backoff_s >= 0 &&
          n.retry_backoff_s <= O::kMaxRetryBackoffS);
    // The training stream's keepalive goes to curl as a long (http_client.cpp).
    CHECK(std::isfinite(n.keepalive_idle_s) && n.keepalive_idle_s >= 1 && n.keepalive_idle_s <= 32767);
    // What the adapter later does with the stored JSON values: dump them into
    // request bodies. The dump must not throw either.
    (void)nat::json::dump(c.backend.init_args);
    (void)nat::json::dump(c.backend.engine_args);
    (void)nat::json::dump(c.backend.server_config);
    (void)nat::json::dump(c.training);
  } catch (const nat::Error &e) {
    CHECK(e.code() == nat::ErrorCode::InvalidArgument);
  }
  return 0;
}
