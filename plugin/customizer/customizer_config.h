// The NeMo Customizer adapter's configuration: NAT's
// NeMoCustomizerTrainerAdapterConfig (same keys, same defaults, same
// validation) plus the options of this implementation under "native".
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/spool.h"

namespace nat::customizer {

struct DpoHyperparameters {
  double ref_policy_kl_penalty = 0.1;
  double preference_loss_weight = 1.0;
  bool preference_average_log_probs = false;
  double sft_loss_weight = 0.0;
};

struct Hyperparameters {
  std::string training_type = "dpo";            // "sft" | "dpo"
  std::string finetuning_type = "all_weights";  // "lora" | "all_weights"
  long long epochs = 3;
  long long batch_size = 4;
  double learning_rate = 5e-5;
  DpoHyperparameters dpo;
};

struct DeploymentConfig {
  std::string image_name = "nvcr.io/nim/nvidia/nemotron-3.5-lightning-30b-a3b";
  std::string image_tag = "latest";
  long long gpu = 1;
  std::optional<std::string> deployment_name;
  std::string description = "Fine-tuned model deployment";
};

struct NativeOptions {
  static constexpr double kMinTimeoutS = 0.001;
  static constexpr double kMaxTimeoutS = 1e6;
  static constexpr int kMinJsonDepth = 2;
  static constexpr int kMaxJsonDepth = 1000;
  static constexpr long long kMinResponseBytes = 1024;
  static constexpr long long kMaxResponseBytes = 1ll << 30;

  double connect_timeout_s = 10.0;
  double request_timeout_s = 60.0;  // every call but the uploads
  double upload_timeout_s = 600.0;  // each commit of a dataset file
  double health_timeout_s = 5.0;    // is_healthy's probes
  int max_json_depth = 128;         // of the submitted collection
  size_t max_response_bytes = 16u << 20;
  std::string ca_path;
  bool insecure_skip_tls_verify = false;
  // The libcurl file to load instead of the search; "" searches
  // (http/curl_library.h: choose_libcurl).
  std::string libcurl_path;
  bool spool = true;
  std::string spool_dir = kDefaultSpoolDir;
};

struct CustomizerConfig {
  std::string type;
  std::string entity_host;     // trailing '/' stripped
  std::string datastore_host;  // trailing '/' stripped
  std::string hf_token;
  std::string namespace_;
  std::string dataset_name = "nat-dpo";
  std::optional<std::string> dataset_output_dir;
  bool create_namespace_if_missing = true;
  std::string customization_config;
  Hyperparameters hyperparameters;
  bool use_full_message_history = false;
  bool deploy_on_completion = false;
  DeploymentConfig deployment_config;
  double poll_interval_seconds = 30.0;
  double deployment_timeout_seconds = 1800.0;
  long long max_consecutive_status_failures = 3;
  nlohmann::json reward;  // NAT's reward config or null
  NativeOptions native;

  // hyperparameters.model_dump(): the job's "hyperparameters" object.
  nlohmann::ordered_json hyperparameters_json() const;
};

// Parses and checks the config JSON. Throws nat::Error(InvalidArgument)
// "config: <key>: ..." naming the key and never quoting a value.
CustomizerConfig parse_customizer_config(std::string_view json_text, std::string_view expected_type);

// JSON Schema of the accepted config.
const char *customizer_config_schema();

}  // namespace nat::customizer
