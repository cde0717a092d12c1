#include <string>

#include "config/adapter_config.h"

namespace nat {

const char *adapter_config_schema() {
  // Defaults defined elsewhere are written in from their one definition.
  static const std::string schema = R"JSON({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "ARTTrainerAdapterConfig",
  "description": "NAT's openpipe_art_trainer_adapter config, with this implementation's options under native. Numbers and booleans may also be given as the strings NAT's pydantic models accept (\"1e-5\", \"7623\", \"true\"); a key may appear once per object.",
  "type": "object",
  "required": ["backend"],
  "properties": {
    "_type": {"const": "openpipe_art_trainer_adapter"},
    "reward": {"type": ["object", "null"], "properties": {"name": {"type": "string"}}},
    "backend": {
      "type": "object",
      "required": ["ip", "port"],
      "properties": {
        "ip": {"type": "string", "minLength": 1, "description": "Address of the ART server (art run): a host name, an IPv4 address or an IPv6 address ([::1]); no port, path or other URL part."},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "Port of the ART server."},
        "name": {"type": "string", "default": "trainer_run", "description": "ART model name, the LoRA name served by vLLM."},
        "project": {"type": "string", "default": "trainer_project"},
        "base_model": {"type": "string", "default": "Qwen/Qwen2.5-7B-Instruct"},
        "api_key": {"type": "string", "default": "default", "description": "Bearer key of the inference server; no control characters (it is sent in an HTTP header)."},
        "delete_old_checkpoints": {"type": "boolean", "default": false},
        "init_args": {"type": ["object", "null"], "default": null},
        "engine_args": {"type": ["object", "null"], "default": null},
        "server_config": {"type": ["object", "null"], "default": null}
      }
    },
    "training": {
      "type": ["object", "null"],
      "default": null,
      "description": "ART trainer args; sent as _internal_config.trainer_args. learning_rate (default 5e-5) and beta (default 0) also go into each call's TrainConfig.",
      "properties": {"learning_rate": {"type": "number"}, "beta": {"type": "number"}}
    },
    "native": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "validation": {"enum": ["compat", "strict"], "default": "compat"},
        "dialect": {"enum": ["auto", "0.4", "0.5"], "default": "auto"},
        "scheme": {"enum": ["http", "https"], "default": "http"},
        "inference_base_url": {"type": "string", "description": "Overrides the inference URL the server returns; no control characters or spaces."},
        "connect_timeout_s": {"type": "number", "minimum": 0.001, "maximum": 1000000, "default": 10},
        "request_timeout_s": {"type": "number", "minimum": 0.001, "maximum": 1000000, "default": 60},
        "get_step_timeout_s": {"type": "number", "minimum": 0.001, "maximum": 1000000, "default": 30},
        "prepare_timeout_s": {"type": "number", "minimum": 0.001, "maximum": 1000000, "default": 1200},
        "health_timeout_s": {"type": "number", "minimum": 0.001, "maximum": 1000000, "default": 5},
        "retries": {"type": "integer", "minimum": 0, "maximum": 20, "default": 3},
        "retry_backoff_s": {"type": "number", "minimum": 0, "maximum": 3600, "default": 0.5},
        "keepalive_idle_s": {"type": "number", "minimum": 1, "maximum": 32767, "default": 30},
        "max_json_depth": {"type": "integer", "minimum": 2, "maximum": 1000, "default": 128},
        "max_response_bytes": {"type": "integer", "minimum": 1024, "maximum": 1073741824, "default": 16777216},
        "ca_path": {"type": "string"},
        "insecure_skip_tls_verify": {"type": "boolean", "default": false},
        "libcurl_path": {"type": "string", "minLength": 1, "description": "The libcurl to load: exactly this file (a path with a directory), instead of the search for libcurl.so.4 (Windows: libcurl-x64.dll, libcurl.dll, libcurl-4.dll beside the plugin, then the DLL search path). One libcurl per process: the first adapter that names one fixes it; an adapter naming another fails at create."},
        "spool": {"type": "boolean", "default": true, "description": "Write each submitted collection to spool_dir before sending; removed when training completed."},
        "spool_dir": {"type": "string", "default": )JSON" +
                                    nlohmann::json(kDefaultSpoolDir).dump() + R"JSON(}
      }
    }
  }
})JSON";
  return schema.c_str();
}

}  // namespace nat
