#include "customizer/customizer_trainer_adapter.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "base/error.h"
#include "customizer/py_json.h"
#include "http/curl_library.h"
#include "jobs/progress_log.h"
#include "jobs/spool.h"
#include "json/small_json.h"

namespace nat::customizer {

namespace {

constexpr const char *kTrainingPath = "training/training_file.jsonl";
constexpr const char *kValidationPath = "validation/validation_file.jsonl";

ClientOptions client_options(const CustomizerConfig &c) {
  ClientOptions o;
  o.entity_host = c.entity_host;
  o.datastore_host = c.datastore_host;
  o.hf_token = c.hf_token;
  o.connect_timeout_s = c.native.connect_timeout_s;
  o.request_timeout_s = c.native.request_timeout_s;
  o.upload_timeout_s = c.native.upload_timeout_s;
  o.health_timeout_s = c.native.health_timeout_s;
  o.max_response_bytes = c.native.max_response_bytes;
  o.ca_path = c.native.ca_path;
  o.insecure_skip_tls_verify = c.native.insecure_skip_tls_verify;
  return o;
}

std::string lower(std::string s) {
  for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// str() of epochs_completed as NAT's message shows it.
std::string epochs_text(const nlohmann::json &epochs) {
  return epochs.is_null() ? "None" : json::dump(epochs);
}

void write_file(const std::filesystem::path &file, const std::string &bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw Error(ErrorCode::Unavailable, "cannot write " + file.string());
}

}  // namespace

CustomizerTrainerAdapter::CustomizerTrainerAdapter(CustomizerConfig config)
    : config_(std::move(config)), client_(client_options(config_), secrets_) {
  if (!config_.native.libcurl_path.empty()) {
    std::string why;
    if (!http::choose_libcurl(config_.native.libcurl_path, &why))
      throw Error(ErrorCode::FailedPrecondition, why);
  }
  http::ensure_curl_initialized();
  secrets_.add(config_.hf_token);
}

CustomizerTrainerAdapter::~CustomizerTrainerAdapter() { shutdown(); }

template <class F>
auto CustomizerTrainerAdapter::redacting_errors(F &&fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error &e) {
    throw Error(e.code(), secrets_.redact(e.what()));
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    throw Error(ErrorCode::Internal, secrets_.redact(text::printable_text(e.what())));
  }
}

void CustomizerTrainerAdapter::finish_job(Job &job, JobState state, const std::string &message,
                                          std::optional<double> progress) const {
  job.finish(state, secrets_.redact(text::printable_text(message)), progress);
}

nlohmann::json CustomizerTrainerAdapter::trainer_config_summary() const {
  return {{"namespace", config_.namespace_}, {"customization_config", config_.customization_config}};
}

JobState CustomizerTrainerAdapter::map_status(const std::string &nemo_status) {
  const std::string s = lower(nemo_status);
  if (s == "created" || s == "pending") return JobState::Pending;
  if (s == "completed") return JobState::Completed;
  if (s == "failed") return JobState::Failed;
  if (s == "cancelled" || s == "canceled") return JobState::Canceled;
  return JobState::Running;  // running, and what NAT does not name
}

void CustomizerTrainerAdapter::initialize(std::string_view run_config_json) {
  redacting_errors([&] {
    nlohmann::json run_config = run_config_json.empty() ? nlohmann::json::object()
                                                        : json::parse_checked(run_config_json, "run config");
    if (!run_config.is_object()) throw_invalid("run config: expected a FinetuneConfig JSON object");
    nlohmann::json namespaces = nullptr;
    if (config_.create_namespace_if_missing) {
      // NAT goes on whatever these answer; the health check below says
      // whether the services are there.
      namespaces = {{"entity_store", client_.create_entity_namespace(config_.namespace_)},
                    {"data_store", client_.create_datastore_namespace(config_.namespace_)}};
    }
    auto data_store = std::async(std::launch::async, [this] { return client_.probe_data_store(); });
    std::string entity_down = client_.probe_entity_store();
    std::string data_down = data_store.get();
    if (!entity_down.empty() || !data_down.empty()) {
      std::string why = entity_down;
      if (!data_down.empty()) why += (why.empty() ? "" : "; ") + data_down;
      throw Error(ErrorCode::Unavailable, "Failed to connect to NeMo Customizer: " + why);
    }
    std::lock_guard<std::mutex> lock(mu_);
    run_config_ = std::move(run_config);
    namespaces_ = std::move(namespaces);
    initialized_ = true;
  });
}

bool CustomizerTrainerAdapter::is_healthy() {
  // Both services at once: the call takes at most one health timeout.
  auto data_store = std::async(std::launch::async, [this] { return client_.probe_data_store(); });
  bool entity_ok = client_.probe_entity_store().empty();
  return data_store.get().empty() && entity_ok;
}

nlohmann::ordered_json CustomizerTrainerAdapter::job_body() const {
  return {{"config", config_.customization_config},
          {"dataset", {{"name", config_.dataset_name}, {"namespace", config_.namespace_}}},
          {"hyperparameters", config_.hyperparameters_json()}};
}

std::string CustomizerTrainerAdapter::convert(std::string_view collection_json) {
  return redacting_errors([&] {
    DpoDataset d =
        build_dpo_dataset(collection_json, config_.use_full_message_history, config_.native.max_json_depth);
    nlohmann::json out = {
        {"run_id", d.run_id},
        {"items", d.items},
        {"trajectories_skipped", d.skipped_trajectories},
        {"files", {{kTrainingPath, d.training_jsonl}, {kValidationPath, d.validation_jsonl}}},
        {"customization_job", nlohmann::json::parse(body_text(job_body()))}};
    return json::dump(out);
  });
}

std::string CustomizerTrainerAdapter::submit(std::string_view collection_json) {
  return redacting_errors([&] { return submit_bytes(std::string(collection_json), ""); });
}

std::string CustomizerTrainerAdapter::resubmit(const std::string &spool_path) {
  // A file of the spool directory stays its job's spool file (removed once
  // trained); any other file is submitted like a new collection.
  return redacting_errors([&] {
    std::string input = Spool::read(spool_path, SIZE_MAX);
    return submit_bytes(input, Spool(config_.native.spool_dir).owned_file(spool_path));
  });
}

std::string CustomizerTrainerAdapter::spooled(const std::optional<std::string> &dir) {
  const char *source = dir                                                     ? "argument"
                       : config_.native.spool_dir == NativeOptions{}.spool_dir ? "default"
                                                                               : "config";
  return Spool(dir ? *dir : config_.native.spool_dir).list_json(config_.native.spool, source);
}

std::string CustomizerTrainerAdapter::submit_bytes(const std::string &input, std::string spool_file) {
  DpoDataset dataset =
      build_dpo_dataset(input, config_.use_full_message_history, config_.native.max_json_depth);
  if (!initialized_)
    throw Error(ErrorCode::FailedPrecondition,
                "the adapter is not initialized: call initialize before submit");
  for (const auto &job : jobs_.all())
    if (job->run_id() == dataset.run_id && !is_terminal(job->state()))
      throw Error(ErrorCode::AlreadyExists, "Training job for run " + dataset.run_id + " already exists");
  // Nothing is sent before the collection is on disk: whatever the services
  // do from here on, it can be resubmitted.
  bool spooled_here = false;
  if (spool_file.empty() && config_.native.spool) {
    spool_file = Spool(config_.native.spool_dir).write(dataset.run_id, input);
    spooled_here = true;
  }
  nlohmann::json metadata = {{"dataset_name", config_.dataset_name},
                             {"namespace", config_.namespace_},
                             {"dpo_items", dataset.items},
                             {"training_items", dataset.training_items},
                             {"validation_items", dataset.validation_items}};
  if (dataset.skipped_trajectories > 0) metadata["trajectories_skipped"] = dataset.skipped_trajectories;
  if (!spool_file.empty()) metadata["spool_file"] = spool_file;
  std::shared_ptr<Job> job;
  try {
    job = jobs_.create(dataset.run_id, kBackend, metadata);
  } catch (...) {
    if (spooled_here) Spool::remove(spool_file);  // nothing was sent
    throw;
  }
  Submitted submitted;
  try {
    submitted = send(*job, dataset.run_id, dataset);
  } catch (const std::exception &e) {
    std::string message = std::string("Submitting to NeMo Customizer failed: ") + e.what();
    if (!spool_file.empty()) message += " The collection is kept in " + spool_file + " for a resubmit.";
    const auto *err = dynamic_cast<const Error *>(&e);
    const bool cancelled = job->cancel_requested();
    finish_job(*job, cancelled ? JobState::Canceled : JobState::Failed, message, std::nullopt);
    throw Error(cancelled ? ErrorCode::Cancelled : err ? err->code() : ErrorCode::Internal, message);
  }
  submitted.spool_file = spool_file;
  // NAT's TrainingJobRef, keys in its order.
  const nlohmann::json output_model =
      submitted.output_model ? nlohmann::json(*submitted.output_model) : nlohmann::json();
  nlohmann::ordered_json ref = {{"run_id", dataset.run_id}, {"backend", kBackend}};
  ref["metadata"] = {{"job_id", submitted.shown_job_id},
                     {"output_model", nlohmann::ordered_json::parse(json::dump(output_model))},
                     {"dataset_name", submitted.dataset_name}};
  const std::string ref_json = ref.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  job->update_metadata([&](nlohmann::json &m) {
    m["job_id"] = submitted.shown_job_id;
    m["nemo_status"] = nullptr;
    m["output_model"] = output_model;
  });
  {
    std::lock_guard<std::mutex> lock(mu_);
    refs_[job->id()] = ref_json;
  }
  job->start([this, submitted](Job &j) {
    try {
      run_job(j, submitted);
    } catch (const std::exception &e) {
      finish_job(j, JobState::Failed, std::string("Training failed with error: ") + e.what(), std::nullopt);
    }
  });
  return ref_json;
}

CustomizerTrainerAdapter::Submitted CustomizerTrainerAdapter::send(Job &job, const std::string &run_id,
                                                                   const DpoDataset &dataset) {
  const std::string &ns = config_.namespace_;
  const std::string &name = config_.dataset_name;
  const std::atomic<bool> *cancel = &job.cancel_flag();
  client_.create_dataset_repo(ns, name, cancel);
  std::string registered = client_.register_dataset(ns, name, run_id, cancel);
  job.update_metadata([&](nlohmann::json &m) { m["dataset_registration"] = registered; });
  if (config_.dataset_output_dir) {
    // NAT keeps the files in <dataset_output_dir>/<run_id>/.
    if (run_id.empty() || run_id == "." || run_id == ".." || run_id.find('/') != std::string::npos)
      throw_invalid("run_id \"" + run_id + "\" cannot name a folder of dataset_output_dir");
    std::filesystem::path dir = std::filesystem::path(*config_.dataset_output_dir) / run_id;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(ErrorCode::Unavailable, "cannot create " + dir.string() + ": " + ec.message());
    write_file(dir / "training_file.jsonl", dataset.training_jsonl);
    write_file(dir / "validation_file.jsonl", dataset.validation_jsonl);
    job.update_metadata([&](nlohmann::json &m) { m["dataset_files"] = dir.string(); });
  }
  std::string training_commit = client_.upload_file(ns, name, kTrainingPath, dataset.training_jsonl,
                                                    "Training file for run " + run_id, cancel);
  std::string validation_commit = client_.upload_file(ns, name, kValidationPath, dataset.validation_jsonl,
                                                      "Validation file for run " + run_id, cancel);
  job.update_metadata([&](nlohmann::json &m) {
    m["uploads"] = {{kTrainingPath, training_commit}, {kValidationPath, validation_commit}};
  });
  if (job.cancel_requested())
    throw Error(ErrorCode::Cancelled, "the submit was cancelled before the job was created");
  CreatedJob created = client_.create_job(job_body(), cancel);
  Submitted s;
  s.nemo_job_id = created.id;
  s.output_model = created.output_model;
  // Shown in the reference, statuses and events: the token masked (the
  // requests use the id as the service gave it).
  s.shown_job_id = secrets_.redact(created.id);
  if (s.output_model) s.output_model = secrets_.redact(*s.output_model);
  s.dataset_name = name;
  return s;
}

bool CustomizerTrainerAdapter::sleep_or_cancel(Job &job, double seconds) {
  return job.sleep_unless_cancelled(seconds) && !job.cancel_requested();
}

void CustomizerTrainerAdapter::cancel_remote(Job &job, const Submitted &submitted) {
  if (jobs_.closing()) {
    // The adapter is going away, not the training: a Customizer job runs
    // on the service whatever becomes of this process.
    job.update_metadata(
        [&](nlohmann::json &m) { m["cancel_request"] = "not sent: the adapter was destroyed"; });
    finish_job(job, JobState::Canceled,
               "Following the job stopped: the adapter was destroyed. NeMo Customizer job " +
                   submitted.nemo_job_id + " was not cancelled and may still be running on the service.",
               std::nullopt);
    return;
  }
  std::string outcome = "sent";
  try {
    client_.cancel_job(submitted.nemo_job_id);
  } catch (const std::exception &e) {
    outcome = e.what();
  }
  job.update_metadata([&](nlohmann::json &m) { m["cancel_request"] = secrets_.redact(outcome); });
  finish_job(
      job, JobState::Canceled,
      outcome == "sent"
          ? "Training was cancelled: NeMo Customizer job " + submitted.nemo_job_id + " was asked to cancel."
          : "Training was cancelled here, but the cancel request for NeMo Customizer job " +
                submitted.nemo_job_id + " failed (" + outcome + "); it may still be running on the service.",
      std::nullopt);
}

void CustomizerTrainerAdapter::run_job(Job &job, const Submitted &submitted) {
  job.emit(
      {{"type", "started"},
       {"nemo_job_id", submitted.shown_job_id},
       {"output_model", submitted.output_model ? nlohmann::json(*submitted.output_model) : nlohmann::json()},
       {"dataset_name", submitted.dataset_name}});
  const double interval = config_.poll_interval_seconds;
  const long long max_failures = config_.max_consecutive_status_failures;
  long long failures = 0;
  std::string last_status;
  nlohmann::json last_epochs = "unset";
  for (;;) {
    if (job.cancel_requested()) return cancel_remote(job, submitted);
    JobStatusReply reply;
    try {
      reply = client_.job_status(submitted.nemo_job_id, &job.cancel_flag());
    } catch (const std::exception &e) {
      if (job.cancel_requested()) return cancel_remote(job, submitted);
      ++failures;
      const std::string message = secrets_.redact(std::string("Error getting status: ") + e.what());
      job.update_metadata([&](nlohmann::json &m) {
        m["status_failures"] = failures;
        m["last_status_error"] = message;
      });
      if (failures >= max_failures) {
        finish_job(job, JobState::Failed,
                   message + " (" + std::to_string(failures) +
                       " consecutive failed status checks; check the service at " + config_.entity_host + ")",
                   std::nullopt);
        return;
      }
      job.emit({{"type", "warning"},
                {"code", "status_check_failed"},
                {"attempt", failures},
                {"max_consecutive_status_failures", max_failures},
                {"message", message}});
      // NAT's backoff: interval * 1.5^k after the k-th failure in a row.
      if (!sleep_or_cancel(job, interval * std::pow(1.5, static_cast<double>(failures))))
        return cancel_remote(job, submitted);
      continue;
    }
    failures = 0;
    const JobState state = map_status(reply.status);
    // The service's words, as they may appear anywhere: the token masked.
    reply.status = secrets_.redact(reply.status);
    const std::string message =
        "Status: " + reply.status + ", Epochs: " + epochs_text(reply.epochs_completed);
    job.update_metadata([&](nlohmann::json &m) {
      m["nemo_status"] = reply.status;
      m["epochs_completed"] = reply.epochs_completed;
      m["status_failures"] = 0;
    });
    if (state == JobState::Running) job.mark_running();
    job.set_progress(reply.percentage_done);
    job.set_message(secrets_.redact(message));
    if (reply.status != last_status || reply.epochs_completed != last_epochs) {
      job.emit({{"type", "status"},
                {"nemo_status", reply.status},
                {"status", job_state_name(state)},
                {"epochs_completed", reply.epochs_completed},
                {"percentage_done",
                 reply.percentage_done ? nlohmann::json(*reply.percentage_done) : nlohmann::json()},
                {"message", secrets_.redact(message)}});
      last_status = reply.status;
      last_epochs = reply.epochs_completed;
    }
    if (state == JobState::Completed) {
      if (!submitted.spool_file.empty()) {
        Spool::remove(submitted.spool_file);
        job.update_metadata([&](nlohmann::json &m) { m["spool_file_removed"] = true; });
      }
      if (config_.deploy_on_completion) {
        std::string failure = deploy(job, job.run_id(), submitted);
        if (!failure.empty()) {
          job.update_metadata([&](nlohmann::json &m) { m["training"] = "completed"; });
          if (job.cancel_requested()) {
            finish_job(job, JobState::Canceled,
                       "Training job " + job.run_id() +
                           " completed; waiting for its deployment was cancelled (" + failure + ").",
                       reply.percentage_done);
            return;
          }
          finish_job(
              job, JobState::Failed,
              "Training job " + job.run_id() + " completed, but deploying the model failed: " + failure,
              reply.percentage_done);
          return;
        }
      }
      finish_job(job, JobState::Completed, message, reply.percentage_done);
      return;
    }
    if (state == JobState::Failed || state == JobState::Canceled) {
      finish_job(job, state, message, reply.percentage_done);
      return;
    }
    if (!sleep_or_cancel(job, interval)) return cancel_remote(job, submitted);
  }
}

std::string CustomizerTrainerAdapter::deploy(Job &job, const std::string &run_id,
                                             const Submitted &submitted) {
  if (!submitted.output_model || submitted.output_model->empty()) {
    // NAT logs a warning and skips the deployment.
    job.update_metadata(
        [&](nlohmann::json &m) { m["deployment"] = "skipped: the job named no output model"; });
    return "";
  }
  const DeploymentConfig &d = config_.deployment_config;
  const std::string &ns = config_.namespace_;
  const std::string deployment_name = d.deployment_name ? *d.deployment_name : "nat-deployment-" + run_id;
  try {
    std::string config_ref = client_.create_deployment_config(
        {{"name", "nat-deploy-config-" + run_id},
         {"namespace", ns},
         {"description", d.description},
         {"model", *submitted.output_model},
         {"nim_deployment", {{"image_name", d.image_name}, {"image_tag", d.image_tag}, {"gpu", d.gpu}}}});
    client_.create_model_deployment({{"name", deployment_name},
                                     {"namespace", ns},
                                     {"description", d.description},
                                     {"config", config_ref}});
  } catch (const std::exception &e) {
    return e.what();
  }
  job.update_metadata([&](nlohmann::json &m) {
    m["deployment"] = {{"name", deployment_name}, {"namespace", ns}, {"status", "created"}};
  });
  const double interval = config_.poll_interval_seconds;
  const double timeout = config_.deployment_timeout_seconds;
  // Clamped to about 31 years: a longer wait is the same as none, and a
  // time point that far out would overflow the clock.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(std::min(timeout, 1e9)));
  std::string last;
  for (;;) {
    if (job.cancel_requested()) return "cancelled while waiting for deployment '" + deployment_name + "'";
    try {
      DeploymentState st = client_.find_deployment(ns, deployment_name, &job.cancel_flag());
      if (st.found) {
        if (st.status != last) {
          job.update_metadata([&](nlohmann::json &m) { m["deployment"]["status"] = st.status; });
          job.emit({{"type", "deployment"},
                    {"deployment_name", deployment_name},
                    {"status", st.status},
                    {"description", st.description}});
          last = st.status;
        }
        const std::string s = lower(st.status);
        if (s == "ready") return "";
        if (s == "failed" || s == "error")
          return "Deployment '" + deployment_name + "' failed with status '" + st.status +
                 "': " + st.description;
      }
    } catch (const std::exception &e) {
      // As NAT: a failed check is retried until the deadline.
      job.update_metadata(
          [&](nlohmann::json &m) { m["deployment"]["last_error"] = secrets_.redact(e.what()); });
    }
    auto left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0)
      return "Deployment '" + deployment_name + "' did not become ready within " + py_float_repr(timeout) +
             " seconds";
    if (!job.sleep_unless_cancelled(std::min(interval, left)))
      return "cancelled while waiting for deployment '" + deployment_name + "'";
  }
}

std::string CustomizerTrainerAdapter::jobs() {
  std::string out = "{\"jobs\":[";
  bool first = true;
  for (const auto &job : jobs_.all()) {
    std::string ref;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = refs_.find(job->id());
      ref = it != refs_.end() ? it->second : job->ref_json();
    }
    if (!first) out += ',';
    first = false;
    out += "{\"job_ref\":" + ref + ",\"status\":" + job->status_json() + "}";
  }
  return out + "]}";
}

void CustomizerTrainerAdapter::log_progress(std::string_view job_ref_json, std::string_view metrics_json,
                                            const char *output_dir) {
  nlohmann::json ref = json::parse_checked(job_ref_json, "job reference");
  if (!ref.is_object() || !ref.contains("run_id") || !ref["run_id"].is_string())
    throw_invalid("job reference: expected a TrainingJobRef object with a string run_id");
  json::parse_checked(metrics_json, "metrics", 64, json::DuplicateKeys::Refuse);
  nlohmann::ordered_json metrics = nlohmann::ordered_json::parse(metrics_json.begin(), metrics_json.end());
  if (!metrics.is_object()) throw_invalid("metrics: expected a JSON object");
  std::string run_id = ref["run_id"].get<std::string>();
  if (run_id.empty() || run_id.find('/') != std::string::npos || run_id.find('\0') != std::string::npos ||
      run_id == "." || run_id == "..")
    throw_invalid("job reference: run_id \"" + run_id + "\" cannot name a progress file");
  // NAT: {"timestamp", "run_id", "backend", "config": {namespace,
  // customization_config}, **metrics} written with json.dumps.
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["timestamp"] = iso_now();
  line["run_id"] = run_id;
  line["backend"] = ref.contains("backend") ? nlohmann::ordered_json::parse(json::dump(ref["backend"]))
                                            : nlohmann::ordered_json();
  line["config"] = {{"namespace", config_.namespace_},
                    {"customization_config", config_.customization_config}};
  for (auto it = metrics.begin(); it != metrics.end(); ++it) line[it.key()] = it.value();
  std::filesystem::path dir = output_dir && *output_dir ? std::filesystem::path(output_dir)
                                                        : std::filesystem::path(kDefaultProgressDir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::Unavailable, "cannot create " + dir.string() + ": " + ec.message());
  append_line(dir / ("nemo_customizer_" + run_id + ".jsonl"), py_dumps(line) + "\n");
}

}  // namespace nat::customizer
