#include "adapter/art_trainer_adapter.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "art/body_pipe.h"
#include "art/training_stream.h"
#include "base/error.h"
#include "convert/trajectory_converter.h"
#include "http/curl_library.h"
#include "jobs/spool.h"
#include "json/small_json.h"

namespace nat {

namespace {

constexpr const char *kConnectFailed = "Failed to connect to ART backend.";

nlohmann::json dropped_details(const CollectionPlan &plan) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto &d : plan.dropped)
    list.push_back({{"group", d.group}, {"trajectory", d.trajectory}, {"reason", d.reason}});
  return list;
}

std::string no_groups_message(const CollectionPlan &plan) {
  std::string msg = "No valid trajectory groups to submit.";
  if (plan.dropped_count > 0) {
    msg += " " + std::to_string(plan.dropped_count) + " trajectories were dropped; first: trajectories[" +
           std::to_string(plan.dropped.front().group) + "][" +
           std::to_string(plan.dropped.front().trajectory) + "]: " + plan.dropped.front().reason;
  }
  return msg;
}

std::string insecure_tls_warning(const AdapterConfig &config) {
  std::string text =
      "native.insecure_skip_tls_verify is on: the TLS certificate and host name of the ART backend are not "
      "verified, so anyone on the network path can impersonate it and read the trajectories and the api key; "
      "use native.ca_path for a private CA instead";
  if (config.native.scheme != "https")
    text += " (native.scheme is " + config.native.scheme + ": no TLS is used at all)";
  return text + ".";
}

// "text (cause)", or just "text" when there is no cause to give.
std::string with_cause(const std::string &text, const std::string &cause) {
  return cause.empty() ? text : text + " (" + cause + ")";
}

art::ClientOptions client_options(const AdapterConfig &config) {
  const NativeOptions &n = config.native;
  art::ClientOptions o;
  o.scheme = n.scheme;
  o.host = config.backend.ip;
  o.port = config.backend.port;
  o.inference_base_url = n.inference_base_url;
  o.connect_timeout_s = n.connect_timeout_s;
  o.request_timeout_s = n.request_timeout_s;
  o.get_step_timeout_s = n.get_step_timeout_s;
  o.prepare_timeout_s = n.prepare_timeout_s;
  o.health_timeout_s = n.health_timeout_s;
  o.retries = n.retries;
  o.retry_backoff_s = n.retry_backoff_s;
  o.keepalive_idle_s = n.keepalive_idle_s;
  o.max_response_bytes = n.max_response_bytes;
  o.ca_path = n.ca_path;
  o.insecure_skip_tls_verify = n.insecure_skip_tls_verify;
  return o;
}

art::ModelSpec model_spec(const AdapterConfig &config) {
  const BackendConfig &b = config.backend;
  return art::ModelSpec{b.name, b.project, b.base_model, b.init_args, b.engine_args, config.training};
}

void add_note(nlohmann::json &metadata, const std::string &note) {
  nlohmann::json &notes = metadata["stream_notes"];
  if (!notes.is_array()) notes = nlohmann::json::array();
  for (const auto &n : notes)
    if (n == note) return;
  notes.push_back(note);
}

}  // namespace

// The sync of a spool file written by submit, running beside the upload
// (SpoolSync), and its report in the job, given once.
struct ArtTrainerAdapter::PendingSpoolSync {
  explicit PendingSpoolSync(SpoolFile file) : sync(std::move(file)) {}
  SpoolSync sync;
  std::once_flag reported;
};

void ArtTrainerAdapter::settle_spool_sync(Job &job, PendingSpoolSync &pending) {
  std::call_once(pending.reported, [&] {
    auto started = std::chrono::steady_clock::now();
    SpoolSync::Result result = pending.sync.wait();
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    job.update_metadata([&](nlohmann::json &m) {
      m["spool_sync"] = result.error.empty() ? std::string("ok") : result.error;
      m["spool_sync_s"] = result.seconds;
      m["spool_sync_wait_s"] = waited;
    });
    if (!result.error.empty()) {
      job.emit(
          {{"type", "warning"},
           {"code", "spool_sync_failed"},
           {"message", result.error +
                           ": the spool file is complete and survives the process, but may not survive a "
                           "crash of the machine"}});
    }
  });
}

ArtTrainerAdapter::ArtTrainerAdapter(AdapterConfig config)
    : config_(std::move(config)), client_(client_options(config_), secrets_) {
  if (!config_.native.libcurl_path.empty()) {
    std::string why;
    if (!http::choose_libcurl(config_.native.libcurl_path, &why))
      throw Error(ErrorCode::FailedPrecondition, why);
  }
  art::ensure_curl_initialized();
  secrets_.add(config_.backend.api_key);
  // The key the server is told to use for its vLLM (server_args.api_key) is
  // the one it hands back from /_prepare_backend_for_training.
  const nlohmann::json &server_config = config_.backend.server_config;
  if (server_config.is_object() && server_config.contains("server_args") &&
      server_config["server_args"].is_object()) {
    const nlohmann::json &args = server_config["server_args"];
    if (args.contains("api_key") && args["api_key"].is_string())
      secrets_.add(args["api_key"].get<std::string>());
  }
  tls_warning_pending_ = config_.native.insecure_skip_tls_verify;
}

template <class F>
auto ArtTrainerAdapter::redacting_errors(F &&fn) -> decltype(fn()) {
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

void ArtTrainerAdapter::finish_job(Job &job, JobState state, const std::string &message,
                                   std::optional<double> progress) const {
  // Made printable before it is masked: the escapes of invalid bytes must
  // not complete a key.
  job.finish(state, secrets_.redact(text::printable_text(message)), progress);
}

ArtTrainerAdapter::~ArtTrainerAdapter() { shutdown(); }

nlohmann::json ArtTrainerAdapter::trainer_config_summary() const {
  return {{"base_model", config_.backend.base_model},
          {"project", config_.backend.project},
          {"name", config_.backend.name}};
}

std::string ArtTrainerAdapter::model_json(const Session &session, bool with_inference) const {
  return json::dump(art::model_body(model_spec(config_), session.server.dialect,
                                    with_inference ? &session.inference : nullptr));
}

ArtTrainerAdapter::Session ArtTrainerAdapter::current_session(bool require_initialized) const {
  std::lock_guard<std::mutex> lock(session_mu_);
  if (session_) return *session_;
  if (require_initialized)
    throw Error(ErrorCode::FailedPrecondition,
                "the adapter is not initialized: call initialize before submit");
  Session s;
  s.server.dialect = config_.native.dialect == Dialect::V05 ? Dialect::V05 : Dialect::V04;
  s.server.beta_field = s.server.dialect == Dialect::V05 ? "kl_penalty_coef" : "beta";
  s.server.note = "not initialized: model body of the configured dialect";
  return s;
}

void ArtTrainerAdapter::initialize(std::string_view run_config_json) {
  redacting_errors([&] { initialize_unredacted(run_config_json); });
}

void ArtTrainerAdapter::initialize_unredacted(std::string_view run_config_json) {
  nlohmann::json run_config =
      run_config_json.empty() ? nlohmann::json::object() : json::parse_checked(run_config_json, "run config");
  if (!run_config.is_object()) throw_invalid("run config: expected a FinetuneConfig JSON object");
  Session s;
  try {
    client_.healthcheck(1 + config_.native.retries);
    s.server = client_.detect_dialect();
    if (config_.native.dialect != Dialect::Auto) {
      s.server.dialect = config_.native.dialect;
      if (!s.server.detected)
        s.server.beta_field = s.server.dialect == Dialect::V05 ? "kl_penalty_coef" : "beta";
    }
    std::string model = model_json(s, false);
    client_.register_model(model);
    s.inference = client_.prepare_backend(model, config_.backend.server_config);
    secrets_.add(s.inference.api_key);
    s.step = client_.get_step(model);
    s.inference.model_name = s.server.dialect == Dialect::V05
                                 ? config_.backend.name + "@" + std::to_string(s.step)
                                 : config_.backend.name;
  } catch (const Error &e) {
    if (e.code() == ErrorCode::Unavailable || e.code() == ErrorCode::DeadlineExceeded)
      throw Error(e.code(), std::string(kConnectFailed) + " " + e.what());
    throw;
  }
  std::string why;
  if (!client_.probe_control(&why) ||
      !client_.probe_inference(s.inference.base_url, s.inference.api_key, &why))
    throw Error(ErrorCode::Unavailable, std::string(kConnectFailed) + " " + why);
  std::lock_guard<std::mutex> lock(session_mu_);
  session_ = s;
  run_config_ = std::move(run_config);
}

bool ArtTrainerAdapter::is_healthy() {
  std::string inference_url;
  std::string api_key = config_.backend.api_key;
  {
    std::lock_guard<std::mutex> lock(session_mu_);
    if (session_) {
      inference_url = session_->inference.base_url;
      api_key = session_->inference.api_key;
    }
  }
  if (inference_url.empty()) {
    // Before initialize has learned it, NAT's default: port 8000 on the configured ip.
    if (!config_.native.inference_base_url.empty()) {
      inference_url = config_.native.inference_base_url;
    } else {
      try {
        inference_url = art::rewrite_url_host("http://0.0.0.0:8000/v1", config_.backend.ip);
      } catch (const Error &) {
        return false;  // no URL to probe (libcurl missing, an ip no URL can hold): not healthy
      }
    }
  }
  // Both probes at once: the call takes at most one health timeout.
  return client_.probe_both(inference_url, api_key);
}

ArtTrainerAdapter::Body ArtTrainerAdapter::body_frame(const Session &session) const {
  Body b;
  b.prefix =
      "{\"model\":" + model_json(session, !session.inference.base_url.empty()) + ",\"trajectory_groups\":";
  nlohmann::json train_config = {{"learning_rate", config_.learning_rate()},
                                 {session.server.beta_field, config_.beta()}};
  b.suffix = ",\"config\":" + json::dump(train_config) + ",\"dev_config\":{},\"verbose\":false}";
  return b;
}

std::string ArtTrainerAdapter::convert(std::string_view collection_json) {
  return redacting_errors([&] { return convert_unredacted(collection_json); });
}

std::string ArtTrainerAdapter::convert_unredacted(std::string_view collection_json) {
  CollectionPlan plan = plan_collection(collection_json, config_.native.validation,
                                        CollectionLimits{config_.native.max_json_depth});
  if (plan.groups_kept == 0) throw_invalid(no_groups_message(plan));
  Body frame = body_frame(current_session(false));
  // The model object carries the inference api key once initialize has
  // learned it. convert shows what would be sent, for inspection: the key
  // is masked there as everywhere else the adapter reports something (the
  // trajectories are the caller's own bytes and are left alone).
  frame.prefix = secrets_.redact(std::move(frame.prefix));
  std::string out;
  out.reserve(collection_json.size() + frame.prefix.size() + frame.suffix.size() + 1024);
  StringSink sink(out);
  sink.write(frame.prefix);
  TrajectoryConverter(collection_json, plan, config_.native.max_json_depth).write_groups(sink, "[", ",", "]");
  sink.write(frame.suffix);
  return out;
}

std::string ArtTrainerAdapter::submit(std::string_view collection_json) {
  // The caller's bytes are borrowed for this call only: the job keeps a copy
  // and the plan's views point into that copy.
  return redacting_errors(
      [&] { return submit_bytes(std::make_shared<const std::string>(collection_json), ""); });
}

std::string ArtTrainerAdapter::spooled(const std::optional<std::string> &dir) {
  const char *source = dir                                                     ? "argument"
                       : config_.native.spool_dir == NativeOptions{}.spool_dir ? "default"
                                                                               : "config";
  return Spool(dir ? *dir : config_.native.spool_dir).list_json(config_.native.spool, source);
}

std::string ArtTrainerAdapter::resubmit(const std::string &spool_path) {
  // A file of the spool directory stays where it is and is the job's spool
  // file again (removed once trained). Any other file is submitted like a
  // new collection (spooled as a copy when native.spool is on) and is never
  // removed: Spool::owned_file gives "" for it.
  return redacting_errors([&] {
    auto input = std::make_shared<const std::string>(Spool::read(spool_path, SIZE_MAX));
    return submit_bytes(std::move(input), Spool(config_.native.spool_dir).owned_file(spool_path));
  });
}

std::string ArtTrainerAdapter::submit_bytes(std::shared_ptr<const std::string> input,
                                            std::string spool_file) {
  Session session = current_session(true);
  if (!session.server.has_train_model)
    throw Error(ErrorCode::FailedPrecondition, "the ART server at " + client_.base_url() +
                                                   " does not serve /_train_model (ART dialect C); "
                                                   "run an openpipe-art server of version 0.4.x or 0.5.x");
  auto plan = std::make_shared<const CollectionPlan>(
      plan_collection(*input, config_.native.validation, CollectionLimits{config_.native.max_json_depth}));
  if (plan->groups_kept == 0) throw_invalid(no_groups_message(*plan));
  nlohmann::json metadata = {
      {"dialect", dialect_name(session.server.dialect)},   {"groups_submitted", plan->groups_kept},
      {"trajectories_submitted", plan->trajectories_kept}, {"trajectories_dropped", plan->dropped_count},
      {"learning_rate", config_.learning_rate()},          {session.server.beta_field, config_.beta()},
  };
  if (plan->dropped_count > 0) metadata["dropped"] = dropped_details(*plan);
  if (config_.native.insecure_skip_tls_verify)
    metadata["tls_verification"] = "off (native.insecure_skip_tls_verify)";
  // Nothing is sent before the whole collection is in the spool file under
  // its final name (a process that dies from here on leaves it complete).
  // Its fsync runs beside the upload; the job reports no terminal status,
  // and removes no file, before it has finished.
  std::shared_ptr<PendingSpoolSync> spool_sync;
  if (spool_file.empty() && config_.native.spool) {
    SpoolFile written = Spool(config_.native.spool_dir).write_unsynced(plan->run_id, *input);
    spool_file = written.path();
    try {
      spool_sync = std::make_shared<PendingSpoolSync>(std::move(written));
    } catch (...) {
      Spool::remove(spool_file);
      throw;
    }
  }
  if (!spool_file.empty()) metadata["spool_file"] = spool_file;
  std::shared_ptr<Job> job;
  try {
    job = jobs_.create(plan->run_id, kBackend, metadata);
  } catch (...) {
    if (spool_sync) {
      spool_sync->sync.wait();
      Spool::remove(spool_file);
    }
    throw;
  }
  if (spool_sync) job->set_before_finish([spool_sync](Job &j) { settle_spool_sync(j, *spool_sync); });
  job->start([this, session, input, plan, spool_file, spool_sync](Job &j) {
    try {
      run_job(j, session, input, plan, spool_file, spool_sync.get());
    } catch (const std::exception &e) {
      // What Job::start would report, redacted.
      finish_job(j, JobState::Failed, std::string("Training failed with error: ") + e.what(), std::nullopt);
    }
  });
  return job->ref_json();
}

void ArtTrainerAdapter::run_job(Job &job, Session session, std::shared_ptr<const std::string> input,
                                std::shared_ptr<const CollectionPlan> plan, std::string spool_file,
                                PendingSpoolSync *spool_sync) {
  job.mark_running();
  job.emit({{"type", "started"},
            {"groups", plan->groups_kept},
            {"trajectories", plan->trajectories_kept},
            {"trajectories_dropped", plan->dropped_count}});
  if (tls_warning_pending_.exchange(false))
    job.emit({{"type", "warning"},
              {"code", "insecure_skip_tls_verify"},
              {"message", insecure_tls_warning(config_)}});
  if (job.cancel_requested()) {
    job.finish(JobState::Canceled, "Training was cancelled.", std::nullopt);
    return;
  }
  const std::string model = model_json(session, true);
  const int64_t step_before = client_.get_step(model);
  job.update_metadata([&](nlohmann::json &m) { m["step_before"] = step_before; });
  if (config_.backend.delete_old_checkpoints) delete_old_checkpoints(job, session, model, step_before);

  art::TrainingStreamReader stream(secrets_);
  const art::StreamResult result = upload_and_train(job, session, *input, *plan, stream);
  if (result.cancelled) {
    job.update_metadata([&](nlohmann::json &m) {
      m["note"] =
          "the training request was aborted; an ART server has no cancel route and may still finish this "
          "step";
    });
    job.finish(JobState::Canceled, "Training was cancelled.", std::nullopt);
    return;
  }
  // Completed needs the stream's proper end (the final chunk, or the whole
  // Content-Length) and nothing that contradicts it: fewer gradient steps
  // than the stream announced means it was cut.
  const bool clean_end = result.curl_code == 0 && result.status >= 200 && result.status < 300;
  if (clean_end && result.framed && !stream.short_of_steps()) {
    complete_job(job, session, model, step_before, stream, spool_file, spool_sync);
  } else if (result.status > 0 && (result.status < 200 || result.status >= 300)) {
    fail_on_status(job, result);
  } else {
    fail_with_reconciliation(job, model, step_before, stream, result);
  }
}

void ArtTrainerAdapter::delete_old_checkpoints(Job &job, const Session &session, const std::string &model,
                                               int64_t step_before) {
  // As in NAT: a failed deletion is logged and training goes on.
  try {
    client_.delete_checkpoints(session.server.dialect, model, step_before);
    job.update_metadata([&](nlohmann::json &m) { m["checkpoint_deletion"] = "ok"; });
  } catch (const std::exception &e) {
    std::string warning = secrets_.redact(std::string("Failed to delete old checkpoints: ") + e.what());
    job.update_metadata([&](nlohmann::json &m) { m["checkpoint_deletion"] = warning; });
  }
}

art::StreamResult ArtTrainerAdapter::upload_and_train(Job &job, const Session &session,
                                                      const std::string &input, const CollectionPlan &plan,
                                                      art::TrainingStreamReader &stream) {
  // The converter writes the body on a thread of its own into a bounded
  // pipe, which the HTTP transfer reads: the upload starts while the
  // conversion still runs.
  const Body frame = body_frame(session);
  art::BodyPipe pipe;
  std::thread producer([&] {
    try {
      pipe.write(frame.prefix);
      TrajectoryConverter(input, plan, config_.native.max_json_depth).write_groups(pipe, "[", ",", "]");
      pipe.write(frame.suffix);
      pipe.close_writer();
    } catch (const std::exception &e) {
      pipe.fail_writer(e.what());
    }
  });
  const auto started = std::chrono::steady_clock::now();
  auto on_line = [&](std::string_view line) {
    record_step(job, stream.read_line(line), std::chrono::steady_clock::now() - started);
  };
  art::StreamResult result;
  try {
    result = client_.train(pipe, on_line, &job.cancel_flag());
  } catch (...) {
    pipe.close_reader();
    producer.join();
    throw;
  }
  pipe.close_reader();
  producer.join();
  job.update_metadata([&](nlohmann::json &m) {
    m["body_bytes"] = pipe.bytes_written();
    if (result.first_byte_sent_s >= 0) m["upload_first_byte_s"] = result.first_byte_sent_s;
  });
  return result;
}

void ArtTrainerAdapter::record_step(Job &job, const art::StreamStep &step,
                                    std::chrono::duration<double> elapsed) {
  if (!step.notes.empty()) {
    job.update_metadata([&](nlohmann::json &m) {
      for (const std::string &note : step.notes) add_note(m, note);
    });
  }
  job.set_progress(step.progress);
  job.update_metadata([&](nlohmann::json &m) {
    m["gradient_steps_done"] = step.steps_done;
    if (step.total_steps >= 0) m["num_gradient_steps"] = step.total_steps;
    m["last_metrics"] = step.metrics;
  });
  nlohmann::json ev = {
      {"type", "step"}, {"step", step.steps_done}, {"metrics", step.metrics}, {"elapsed_s", elapsed.count()}};
  ev["num_gradient_steps"] = step.total_steps >= 0 ? nlohmann::json(step.total_steps) : nlohmann::json();
  job.emit(std::move(ev));
}

void ArtTrainerAdapter::complete_job(Job &job, const Session &session, const std::string &model,
                                     int64_t step_before, const art::TrainingStreamReader &stream,
                                     const std::string &spool_file, PendingSpoolSync *spool_sync) {
  // Asked with the retries of every unary call. If the server still cannot
  // say, the training it streamed to its end stands: the job completes
  // with a note rather than failing (a failure invites a resubmit that
  // would train the same collection twice).
  std::optional<int64_t> step_after;
  std::string step_error;
  try {
    step_after = client_.get_step(model);
  } catch (const std::exception &e) {
    step_error = secrets_.redact(e.what());
  }
  const int64_t lines = stream.steps_done();
  const int64_t total_steps = stream.total_steps();
  const bool v05 = session.server.dialect == Dialect::V05;
  job.update_metadata([&](nlohmann::json &m) {
    m["gradient_steps_done"] = lines;
    if (total_steps < 0) m["num_gradient_steps"] = lines;
    const bool streamed = lines > 0 && total_steps != 0;
    if (step_after) {
      m["step_after"] = *step_after;
      m["trained"] = *step_after > step_before && streamed;
    } else {
      m["trained"] = streamed;
      add_note(m, "the training stream ended cleanly, but /_get_step failed afterwards (" + step_error +
                      "): the step after training is unknown" +
                      (v05 ? "; inference_model_name assumes one step per call" : ""));
    }
    const int64_t step_for_name = step_after ? *step_after : step_before + 1;
    m["inference_model_name"] =
        v05 ? config_.backend.name + "@" + std::to_string(step_for_name) : config_.backend.name;
    if (lines == 0 || total_steps == 0)
      m["note"] = "nothing was trainable: every group had equal rewards or no trainable assistant turn";
  });
  if (!spool_file.empty()) {
    // Trained: the spooled copy has done its job (once its sync is over,
    // which it normally is by now).
    if (spool_sync) settle_spool_sync(job, *spool_sync);
    Spool::remove(spool_file);
    job.update_metadata([&](nlohmann::json &m) { m["spool_file_removed"] = true; });
  }
  job.finish(JobState::Completed, "Training completed successfully.", 100.0);
}

void ArtTrainerAdapter::fail_on_status(Job &job, const art::StreamResult &result) const {
  if (result.status >= 300) {
    finish_job(job, JobState::Failed,
               "Training failed with error: " + art::http_error_text("POST /_train_model", result.status,
                                                                     result.error_body, secrets_,
                                                                     result.error_body_cut),
               std::nullopt);
    return;
  }
  // A final 1xx (101 Switching Protocols without an upgrade asked for): no
  // training stream at all.
  finish_job(job, JobState::Failed,
             with_cause("Training failed with error: POST /_train_model answered HTTP " +
                            std::to_string(result.status) + ", which is not a training stream",
                        result.curl_error) +
                 ".",
             std::nullopt);
}

void ArtTrainerAdapter::fail_with_reconciliation(Job &job, const std::string &model, int64_t step_before,
                                                 const art::TrainingStreamReader &stream,
                                                 const art::StreamResult &result) {
  // The stream broke, never started, had no end of its own, or fell short of
  // the steps it announced: ask the server what happened to the step.
  std::string reconciliation;
  try {
    const int64_t step_now = client_.get_step(model);
    job.update_metadata([&](nlohmann::json &m) { m["step_after"] = step_now; });
    reconciliation = step_now > step_before
                         ? "/_get_step reports step " + std::to_string(step_now) + " (was " +
                               std::to_string(step_before) + "): the server recorded a new checkpoint"
                         : "/_get_step reports step " + std::to_string(step_now) +
                               " (unchanged): no new checkpoint was recorded";
  } catch (const std::exception &e) {
    reconciliation = secrets_.redact(std::string("the server could not be asked for its step: ") + e.what());
  }
  job.update_metadata([&](nlohmann::json &m) { m["reconciliation"] = reconciliation; });
  const std::string steps = stream.steps_text();
  const bool clean_end = result.curl_code == 0 && result.status >= 200 && result.status < 300;
  std::string what;
  if (result.status == 0) {
    what = with_cause("POST /_train_model got no answer", result.curl_error);
  } else if (clean_end && !result.framed) {
    what =
        "the training stream was ended by closing the connection, with neither chunked encoding nor a "
        "Content-Length (HTTP/1.0 style), so its end cannot be told from a cut; it ended after " +
        steps + " gradient steps";
  } else if (clean_end) {
    what = "the training stream ended after " + steps + " gradient steps: fewer than it announced";
  } else {
    what = with_cause("the training stream ended without its final chunk after " + steps + " gradient steps",
                      result.curl_error);
  }
  finish_job(job, JobState::Failed, "Training failed with error: " + what + "; " + reconciliation + ".",
             std::nullopt);
}

}  // namespace nat
