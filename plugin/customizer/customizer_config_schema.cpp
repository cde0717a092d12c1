#include <string>

#include "customizer/customizer_config.h"

namespace nat::customizer {

const char *customizer_config_schema() {
  static const std::string schema = R"JSON({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "NeMoCustomizerTrainerAdapterConfig",
  "description": "NAT's nemo_customizer_trainer_adapter config, with this implementation's options under native. Numbers and booleans may also be given as the strings NAT's pydantic models accept; a key may appear once per object.",
  "type": "object",
  "required": ["entity_host", "datastore_host", "namespace", "customization_config"],
  "properties": {
    "_type": {"const": "nemo_customizer_trainer_adapter"},
    "reward": {"type": ["object", "null"]},
    "entity_host": {"type": "string", "description": "Base URL of the NeMo Entity Store and Customizer (http:// or https://); trailing slashes are stripped."},
    "datastore_host": {"type": "string", "description": "Base URL of the NeMo Data Store (its Hugging Face API is under /v1/hf); trailing slashes are stripped."},
    "hf_token": {"type": "string", "default": "", "description": "Bearer token of the Data Store's Hugging Face API; empty sends no Authorization header. Never shown in messages."},
    "namespace": {"type": "string", "minLength": 1},
    "dataset_name": {"type": "string", "minLength": 1, "default": "nat-dpo"},
    "dataset_output_dir": {"type": ["string", "null"], "default": null, "description": "Also write training_file.jsonl and validation_file.jsonl to <dir>/<run_id>/."},
    "create_namespace_if_missing": {"type": "boolean", "default": true},
    "customization_config": {"type": "string", "description": "e.g. meta/llama-3.2-1b-instruct@v1.0.0+A100"},
    "hyperparameters": {
      "type": "object",
      "properties": {
        "training_type": {"enum": ["sft", "dpo"], "default": "dpo"},
        "finetuning_type": {"enum": ["lora", "all_weights"], "default": "all_weights"},
        "epochs": {"type": "integer", "minimum": 1, "default": 3},
        "batch_size": {"type": "integer", "minimum": 1, "default": 4},
        "learning_rate": {"type": "number", "exclusiveMinimum": 0, "default": 5e-05},
        "dpo": {
          "type": "object",
          "properties": {
            "ref_policy_kl_penalty": {"type": "number", "minimum": 0, "default": 0.1},
            "preference_loss_weight": {"type": "number", "minimum": 0, "default": 1.0},
            "preference_average_log_probs": {"type": "boolean", "default": false},
            "sft_loss_weight": {"type": "number", "minimum": 0, "default": 0.0}
          }
        }
      }
    },
    "use_full_message_history": {"type": "boolean", "default": false, "description": "true: the prompt is the list of {role, content} messages; false: the last message's content."},
    "deploy_on_completion": {"type": "boolean", "default": false},
    "deployment_config": {
      "type": "object",
      "properties": {
        "image_name": {"type": "string", "default": "nvcr.io/nim/nvidia/nemotron-3.5-lightning-30b-a3b"},
        "image_tag": {"type": "string", "default": "latest"},
        "gpu": {"type": "integer", "minimum": 1, "default": 1},
        "deployment_name": {"type": ["string", "null"], "default": null, "description": "null: nat-deployment-<run_id>."},
        "description": {"type": "string", "default": "Fine-tuned model deployment"}
      }
    },
    "poll_interval_seconds": {"type": "number", "exclusiveMinimum": 0, "default": 30.0},
    "deployment_timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "default": 1800.0},
    "max_consecutive_status_failures": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
    "native": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "connect_timeout_s": {"type": "number", "minimum": 0.001, "maximum": 1000000, "default": 10},
        "request_timeout_s": {"type": "number", "minimum": 0.001, "maximum": 1000000, "default": 60},
        "upload_timeout_s": {"type": "number", "minimum": 0.001, "maximum": 1000000, "default": 600},
        "health_timeout_s": {"type": "number", "minimum": 0.001, "maximum": 1000000, "default": 5},
        "max_json_depth": {"type": "integer", "minimum": 2, "maximum": 1000, "default": 128},
        "max_response_bytes": {"type": "integer", "minimum": 1024, "maximum": 1073741824, "default": 16777216},
        "ca_path": {"type": "string"},
        "insecure_skip_tls_verify": {"type": "boolean", "default": false},
        "libcurl_path": {"type": "string", "minLength": 1, "description": "The libcurl to load: exactly this file (a path with a directory), instead of the search for libcurl.so.4 (Windows: libcurl-x64.dll, libcurl.dll, libcurl-4.dll beside the plugin, then the DLL search path). One libcurl per process: the first adapter that names one fixes it; an adapter naming another fails at create."},
        "spool": {"type": "boolean", "default": true, "description": "Write each submitted collection to spool_dir before anything is sent; removed when training completed."},
        "spool_dir": {"type": "string", "default": )JSON" +
                                    nlohmann::json(kDefaultSpoolDir).dump() + R"JSON(}
      }
    }
  }
})JSON";
  return schema.c_str();
}

}  // namespace nat::customizer
