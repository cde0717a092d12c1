// The requests NAT's NeMo Customizer adapter makes, over libcurl: the NeMo
// Entity Store and Customizer at entity_host (what the nemo-microservices
// SDK sends: JSON, no Authorization header) and the NeMo Data Store at
// datastore_host (its namespaces route, form-encoded, and its Hugging
// Face-compatible API under /v1/hf, as huggingface_hub sends it, with
// "Authorization: Bearer <hf_token>" only when hf_token is not empty).
//
// Every reply is untrusted: bodies are capped (max_response_bytes), parsed
// with the depth-checked parser, checked for the fields that are used, and
// quoted in messages only through SecretRedactor::quote. Every request has a
// connect timeout and a whole-request timeout. Failures throw
// nat::Error(Unavailable) naming the service, the request and the URL.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret_redactor.h"
#include "http/http_client.h"

namespace nat::customizer {

struct ClientOptions {
  std::string entity_host;
  std::string datastore_host;
  std::string hf_token;
  double connect_timeout_s = 10;
  double request_timeout_s = 60;
  double upload_timeout_s = 600;
  double health_timeout_s = 5;
  size_t max_response_bytes = 16u << 20;
  std::string ca_path;
  bool insecure_skip_tls_verify = false;
};

struct CreatedJob {
  std::string id;
  std::optional<std::string> output_model;
};

struct JobStatusReply {
  std::string status;  // as the service wrote it
  std::optional<double> percentage_done;
  nlohmann::json epochs_completed;  // integer or null
};

struct DeploymentState {
  bool found = false;
  std::string status = "unknown";
  std::string description;
};

// Percent-encodes one URL path segment (all but A-Z a-z 0-9 - . _ ~).
std::string path_segment(std::string_view text);
// A request body as sent: keys in the order NAT's clients write them.
std::string body_text(const nlohmann::ordered_json &body);
// Standard base64 with padding.
std::string base64(std::string_view bytes);

class NemoClient {
 public:
  static constexpr const char *kEntityStore = "NeMo Entity Store";
  static constexpr const char *kDataStore = "NeMo Data Store";
  // Longest job id, output model or deployment name taken from a reply.
  static constexpr size_t kMaxIdBytes = 512;

  NemoClient(ClientOptions options, const SecretRedactor &secrets);

  // initialize. NAT ignores the outcome of both: what happened is returned
  // as text for the adapter's record ("created", "exists", or the error).
  std::string create_entity_namespace(const std::string &ns);
  std::string create_datastore_namespace(const std::string &ns);

  // "" when the service answered (any HTTP status below 500), else why not.
  std::string probe_entity_store() const;
  std::string probe_data_store() const;
  const std::string &entity_host() const { return o_.entity_host; }
  const std::string &datastore_host() const { return o_.datastore_host; }

  // submit, in NAT's order. `cancel` (may be null) aborts a request in
  // flight when it is set (the adapter being destroyed).
  void create_dataset_repo(const std::string &ns, const std::string &name, const std::atomic<bool> *cancel);
  std::string register_dataset(const std::string &ns, const std::string &name, const std::string &run_id,
                               const std::atomic<bool> *cancel);
  // huggingface_hub's upload_file: preupload, then the NDJSON commit with
  // the file's bytes in base64. Returns the commit id when the reply has one.
  std::string upload_file(const std::string &ns, const std::string &name, const std::string &path_in_repo,
                          std::string_view bytes, const std::string &commit_message,
                          const std::atomic<bool> *cancel);
  CreatedJob create_job(const nlohmann::ordered_json &body, const std::atomic<bool> *cancel);

  // status, cancel.
  JobStatusReply job_status(const std::string &job_id, const std::atomic<bool> *cancel) const;
  void cancel_job(const std::string &job_id) const;

  // Deployment on completion.
  // Returns "namespace/name" of the created deployment config.
  std::string create_deployment_config(const nlohmann::ordered_json &body);
  void create_model_deployment(const nlohmann::ordered_json &body);
  DeploymentState find_deployment(const std::string &ns, const std::string &name,
                                  const std::atomic<bool> *cancel) const;

  // The bodies as they are sent, for convert() and tests.
  static std::string commit_body(const std::string &path_in_repo, std::string_view bytes,
                                 const std::string &commit_message);

 private:
  http::RequestOptions options(double timeout_s, bool hf_auth,
                               const std::atomic<bool> *cancel = nullptr) const;
  // The reply of a request that must succeed (2xx, or one of `also_ok`).
  http::HttpResponse expect(const char *service, const std::string &what, const std::string &url,
                            const std::function<http::HttpResponse()> &send,
                            std::initializer_list<long> also_ok = {}) const;
  nlohmann::json reply_object(const char *service, const std::string &what,
                              const http::HttpResponse &r) const;
  std::string probe(const char *service, const std::string &base, const std::string &url) const;

  ClientOptions o_;
  const SecretRedactor &secrets_;
  http::HttpClient http_;
};

}  // namespace nat::customizer
