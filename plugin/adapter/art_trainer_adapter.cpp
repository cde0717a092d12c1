#include "adapter/art_trainer_adapter.h"

#include <chrono>
#include <cmath>
#include <thread>

#include "adapter/error.h"
#include "art/body_pipe.h"
#include "convert/trajectory_converter.h"
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
           std::to_string(plan.dropped.front().group) + "][" + std::to_string(plan.dropped.front().trajectory) +
           "]: " + plan.dropped.front().reason;
  }
  return msg;
}

}  // namespace

ArtTrainerAdapter::ArtTrainerAdapter(AdapterConfig config) : config_(std::move(config)), client_(config_) {
  art::ensure_curl_initialized();
}

ArtTrainerAdapter::~ArtTrainerAdapter() { shutdown(); }

nlohmann::json ArtTrainerAdapter::trainer_config_summary() const {
  return {{"base_model", config_.backend.base_model}, {"project", config_.backend.project}, {"name", config_.backend.name}};
}

std::string ArtTrainerAdapter::model_json(const Session &session, bool with_inference) const {
  return json::dump(art::model_body(config_, session.server.dialect, with_inference ? &session.inference : nullptr));
}

ArtTrainerAdapter::Session ArtTrainerAdapter::current_session(bool require_initialized) const {
  std::lock_guard<std::mutex> lock(session_mu_);
  if (session_) return *session_;
  if (require_initialized)
    throw Error(ErrorCode::FailedPrecondition, "the adapter is not initialized: call initialize before submit");
  Session s;
  s.server.dialect = config_.native.dialect == Dialect::V05 ? Dialect::V05 : Dialect::V04;
  s.server.beta_field = s.server.dialect == Dialect::V05 ? "kl_penalty_coef" : "beta";
  s.server.note = "not initialized: model body of the configured dialect";
  return s;
}

void ArtTrainerAdapter::initialize(std::string_view run_config_json) {
  nlohmann::json run_config = run_config_json.empty() ? nlohmann::json::object()
                                                      : json::parse_checked(run_config_json, "run config");
  if (!run_config.is_object()) throw_invalid("run config: expected a FinetuneConfig JSON object");
  Session s;
  try {
    client_.healthcheck(1 + config_.native.retries);
    s.server = client_.detect_dialect();
    if (config_.native.dialect != Dialect::Auto) {
      s.server.dialect = config_.native.dialect;
      if (!s.server.detected) s.server.beta_field = s.server.dialect == Dialect::V05 ? "kl_penalty_coef" : "beta";
    }
    std::string model = model_json(s, false);
    client_.register_model(model);
    s.inference = client_.prepare_backend(model, config_.backend.server_config);
    s.step = client_.get_step(model);
    s.inference.model_name = s.server.dialect == Dialect::V05 ? config_.backend.name + "@" + std::to_string(s.step)
                                                              : config_.backend.name;
  } catch (const Error &e) {
    if (e.code() == ErrorCode::Unavailable || e.code() == ErrorCode::DeadlineExceeded)
      throw Error(e.code(), std::string(kConnectFailed) + " " + e.what());
    throw;
  }
  std::string why;
  if (!client_.probe_control(&why) || !client_.probe_inference(s.inference.base_url, s.inference.api_key, &why))
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
    inference_url = config_.native.inference_base_url.empty()
                        ? art::rewrite_url_host("http://0.0.0.0:8000/v1", config_.backend.ip)
                        : config_.native.inference_base_url;
  }
  return client_.probe_control(nullptr) && client_.probe_inference(inference_url, api_key, nullptr);
}

ArtTrainerAdapter::Body ArtTrainerAdapter::body_frame(const Session &session) const {
  Body b;
  b.prefix = "{\"model\":" + model_json(session, !session.inference.base_url.empty()) + ",\"trajectory_groups\":";
  nlohmann::json train_config = {{"learning_rate", config_.learning_rate()}, {session.server.beta_field, config_.beta()}};
  b.suffix = ",\"config\":" + json::dump(train_config) + ",\"dev_config\":{},\"verbose\":false}";
  return b;
}

std::string ArtTrainerAdapter::convert(std::string_view collection_json) {
  CollectionPlan plan =
      plan_collection(collection_json, config_.native.validation, CollectionLimits{config_.native.max_json_depth});
  if (plan.groups_kept == 0) throw_invalid(no_groups_message(plan));
  Body frame = body_frame(current_session(false));
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
  return submit_bytes(std::make_shared<const std::string>(collection_json), "");
}

std::string ArtTrainerAdapter::resubmit(const std::string &spool_path) {
  // The file stays where it is and is the job's spool file again.
  auto input = std::make_shared<const std::string>(Spool::read(spool_path, SIZE_MAX));
  return submit_bytes(std::move(input), spool_path);
}

std::string ArtTrainerAdapter::submit_bytes(std::shared_ptr<const std::string> input, std::string spool_file) {
  Session session = current_session(true);
  if (!session.server.has_train_model)
    throw Error(ErrorCode::FailedPrecondition,
                "the ART server at " + client_.base_url() + " does not serve /_train_model (ART dialect C); "
                "run an openpipe-art server of version 0.4.x or 0.5.x");
  auto plan = std::make_shared<const CollectionPlan>(
      plan_collection(*input, config_.native.validation, CollectionLimits{config_.native.max_json_depth}));
  if (plan->groups_kept == 0) throw_invalid(no_groups_message(*plan));
  nlohmann::json metadata = {
      {"dialect", dialect_name(session.server.dialect)},
      {"groups_submitted", plan->groups_kept},
      {"trajectories_submitted", plan->trajectories_kept},
      {"trajectories_dropped", plan->dropped_count},
      {"learning_rate", config_.learning_rate()},
      {session.server.beta_field, config_.beta()},
  };
  if (plan->dropped_count > 0) metadata["dropped"] = dropped_details(*plan);
  // Nothing is sent before the collection is on disk.
  bool spooled_here = false;
  if (spool_file.empty() && config_.native.spool) {
    spool_file = Spool(config_.native.spool_dir).write(plan->run_id, *input);
    spooled_here = true;
  }
  if (!spool_file.empty()) metadata["spool_file"] = spool_file;
  std::shared_ptr<Job> job;
  try {
    job = jobs_.create(plan->run_id, kBackend, metadata);
  } catch (...) {
    if (spooled_here) Spool::remove(spool_file);
    throw;
  }
  job->start([this, session, input, plan, spool_file](Job &j) { run_job(j, session, input, plan, spool_file); });
  return job->ref_json();
}

void ArtTrainerAdapter::run_job(Job &job, Session session, std::shared_ptr<const std::string> input,
                                std::shared_ptr<const CollectionPlan> plan, std::string spool_file) {
  job.mark_running();
  job.emit({{"type", "started"},
            {"groups", plan->groups_kept},
            {"trajectories", plan->trajectories_kept},
            {"trajectories_dropped", plan->dropped_count}});
  if (job.cancel_requested()) {
    job.finish(JobState::Canceled, "Training was cancelled.", std::nullopt);
    return;
  }
  const std::string model = model_json(session, true);
  int64_t step_before = client_.get_step(model);
  job.update_metadata([&](nlohmann::json &m) { m["step_before"] = step_before; });

  if (config_.backend.delete_old_checkpoints) {
    // As in NAT: a failed deletion is logged and training goes on.
    try {
      client_.delete_checkpoints(session.server.dialect, model, step_before);
      job.update_metadata([&](nlohmann::json &m) { m["checkpoint_deletion"] = "ok"; });
    } catch (const std::exception &e) {
      std::string warning = std::string("Failed to delete old checkpoints: ") + e.what();
      job.update_metadata([&](nlohmann::json &m) { m["checkpoint_deletion"] = warning; });
    }
  }

  Body frame = body_frame(session);
  art::BodyPipe pipe;
  std::thread producer([&] {
    try {
      pipe.write(frame.prefix);
      TrajectoryConverter(*input, *plan, config_.native.max_json_depth).write_groups(pipe, "[", ",", "]");
      pipe.write(frame.suffix);
      pipe.close_writer();
    } catch (const std::exception &e) {
      pipe.fail_writer(e.what());
    }
  });

  int64_t lines = 0;
  int64_t total_steps = -1;
  auto started = std::chrono::steady_clock::now();
  auto on_line = [&](std::string_view line) {
    nlohmann::json metrics = json::parse_checked(line, "training stream line");
    if (!metrics.is_object()) throw std::runtime_error("training stream line is not a JSON object");
    ++lines;
    if (metrics.contains("num_gradient_steps") && metrics["num_gradient_steps"].is_number())
      total_steps = static_cast<int64_t>(metrics["num_gradient_steps"].get<double>());
    std::optional<double> progress;
    if (total_steps > 0) progress = std::min(100.0, 100.0 * static_cast<double>(lines) / static_cast<double>(total_steps));
    job.set_progress(progress);
    job.update_metadata([&](nlohmann::json &m) {
      m["gradient_steps_done"] = lines;
      if (total_steps >= 0) m["num_gradient_steps"] = total_steps;
      m["last_metrics"] = metrics;
    });
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    nlohmann::json ev = {{"type", "step"}, {"step", lines}, {"metrics", metrics}, {"elapsed_s", elapsed}};
    ev["num_gradient_steps"] = total_steps >= 0 ? nlohmann::json(total_steps) : nlohmann::json();
    job.emit(std::move(ev));
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

  if (result.cancelled) {
    job.update_metadata([&](nlohmann::json &m) {
      m["note"] = "the training request was aborted; an ART server has no cancel route and may still finish this step";
    });
    job.finish(JobState::Canceled, "Training was cancelled.", std::nullopt);
    return;
  }

  if (result.curl_code == 0 && result.status >= 200 && result.status < 300) {
    int64_t step_after = client_.get_step(model);
    job.update_metadata([&](nlohmann::json &m) {
      m["step_after"] = step_after;
      m["gradient_steps_done"] = lines;
      if (total_steps < 0) m["num_gradient_steps"] = lines;
      m["trained"] = step_after > step_before && lines > 0 && total_steps != 0;
      if (session.server.dialect == Dialect::V05)
        m["inference_model_name"] = config_.backend.name + "@" + std::to_string(step_after);
      else
        m["inference_model_name"] = config_.backend.name;
      if (lines == 0 || total_steps == 0)
        m["note"] = "nothing was trainable: every group had equal rewards or no trainable assistant turn";
    });
    if (!spool_file.empty()) {
      // Trained: the spooled copy has done its job.
      Spool::remove(spool_file);
      job.update_metadata([&](nlohmann::json &m) { m["spool_file_removed"] = true; });
    }
    job.finish(JobState::Completed, "Training completed successfully.", 100.0);
    return;
  }

  if (result.status >= 300) {
    job.finish(JobState::Failed,
               "Training failed with error: POST /_train_model returned HTTP " + std::to_string(result.status) + ": " +
                   art::error_detail(art::HttpResponse{result.status, result.error_body}),
               std::nullopt);
    return;
  }

  // The stream broke, or never started: ask the server what happened to the step.
  std::string reconciliation;
  try {
    int64_t step_now = client_.get_step(model);
    job.update_metadata([&](nlohmann::json &m) { m["step_after"] = step_now; });
    reconciliation = step_now > step_before
                         ? "/_get_step reports step " + std::to_string(step_now) + " (was " + std::to_string(step_before) +
                               "): the server recorded a new checkpoint"
                         : "/_get_step reports step " + std::to_string(step_now) +
                               " (unchanged): no new checkpoint was recorded";
  } catch (const std::exception &e) {
    reconciliation = std::string("the server could not be asked for its step: ") + e.what();
  }
  job.update_metadata([&](nlohmann::json &m) { m["reconciliation"] = reconciliation; });
  std::string steps = total_steps >= 0 ? std::to_string(lines) + " of " + std::to_string(total_steps)
                                       : std::to_string(lines);
  if (result.status == 0) {
    job.finish(JobState::Failed,
               "Training failed with error: POST /_train_model got no answer (" + result.curl_error + "); " +
                   reconciliation + ".",
               std::nullopt);
    return;
  }
  job.finish(JobState::Failed,
             "Training failed with error: the training stream ended without its final chunk after " + steps +
                 " gradient steps (" + result.curl_error + "); " + reconciliation + ".",
             std::nullopt);
}

}  // namespace nat
