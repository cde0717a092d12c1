#include "command_line/progress_display.h"

#include "adapter/job_follower.h"
#include "platform/platform.h"

namespace nat::host {
namespace {

using Clock = std::chrono::steady_clock;

std::string text_field(const nlohmann::json &object, const char *key, const std::string &fallback) {
  auto field = object.find(key);
  return field != object.end() && field->is_string() ? field->get<std::string>() : fallback;
}

std::string step_text(const StepProgress &progress) {
  std::string text = "step " + std::to_string(progress.step);
  if (progress.total > 0) {
    text += "/" + std::to_string(progress.total);
  }
  if (progress.has_loss) {
    char loss[32];
    std::snprintf(loss, sizeof loss, "%.4g", progress.loss);
    text += std::string("  loss ") + loss;
  }
  return text;
}

class TerminalProgress : public ProgressDisplay {
 public:
  TerminalProgress(std::FILE *stream, std::string run_id) : stream_(stream), run_id_(std::move(run_id)) {
    redraw();
  }

  void on_event(const nlohmann::json &event) override {
    const std::string type = text_field(event, "type", "");
    if (type == "warning") {
      // On its own line above the bar, which is redrawn below it.
      std::fprintf(stream_, "\r\033[2Knat-trainer: %s: warning: %s\n", run_id_.c_str(),
                   text_field(event, "message", "").c_str());
      redraw();
      return;
    }
    if (type == "step") {
      progress_ = StepProgress::from_event(event);
      state_ = "running";
    } else if (type == "started") {
      state_ = "running";
    } else if (!type.empty()) {
      state_ = type;
    }
    redraw();
  }

  void on_idle() override { redraw(); }

  void finish(const nlohmann::json &status) override {
    state_ = text_field(status, "status", state_);
    redraw();
    std::fputc('\n', stream_);
    std::fflush(stream_);
  }

 private:
  void redraw() {
    constexpr int kWidth = 24;
    int filled = 0;
    if (progress_.total > 0) {
      filled = static_cast<int>(kWidth * std::min(progress_.step, progress_.total) / progress_.total);
    }
    if (state_ == "completed") {
      filled = kWidth;
    }
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(kWidth - filled), '-');
    std::string line = run_id_ + " [" + bar + "] " + state_;
    if (progress_.step > 0) {
      line += "  " + step_text(progress_);
    }
    line += "  " + format_elapsed(Clock::now() - started_);
    // \r and "erase line" redraw in place.
    std::fprintf(stream_, "\r\033[2K%s", line.c_str());
    std::fflush(stream_);
  }

  std::FILE *stream_;
  std::string run_id_;
  std::string state_ = "pending";
  StepProgress progress_;
  Clock::time_point started_ = Clock::now();
};

class PlainProgress : public ProgressDisplay {
 public:
  PlainProgress(std::FILE *stream, std::string run_id) : stream_(stream), run_id_(std::move(run_id)) {}

  void on_event(const nlohmann::json &event) override {
    const std::string type = text_field(event, "type", "event");
    if (type == "step") {
      print(step_text(StepProgress::from_event(event)));
    } else if (type == "warning") {
      print("warning: " + text_field(event, "message", ""));
    } else if (!is_final_event(event)) {
      print(type);
    }
  }

  void on_idle() override {}

  void finish(const nlohmann::json &status) override {
    std::string line = text_field(status, "status", "unknown");
    const std::string message = text_field(status, "message", "");
    if (!message.empty()) {
      line += ": " + message;
    }
    print(line);
  }

 private:
  void print(const std::string &what) {
    std::fprintf(stream_, "nat-trainer: [%s] %s: %s\n", format_elapsed(Clock::now() - started_).c_str(),
                 run_id_.c_str(), what.c_str());
    std::fflush(stream_);
  }

  std::FILE *stream_;
  std::string run_id_;
  Clock::time_point started_ = Clock::now();
};

}  // namespace

std::string format_elapsed(Clock::duration elapsed) {
  const long long total = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%02lld:%02lld", total / 60, total % 60);
  }
  return text;
}

StepProgress StepProgress::from_event(const nlohmann::json &event) {
  StepProgress progress;
  auto number = [&](const nlohmann::json &object, const char *key, auto &out) {
    auto field = object.find(key);
    if (field != object.end() && field->is_number()) {
      out = field->get<std::decay_t<decltype(out)>>();
      return true;
    }
    return false;
  };
  number(event, "step", progress.step);
  number(event, "num_gradient_steps", progress.total);
  auto metrics = event.find("metrics");
  if (metrics != event.end() && metrics->is_object()) {
    progress.has_loss = number(*metrics, "loss", progress.loss);
  }
  return progress;
}

std::unique_ptr<ProgressDisplay> ProgressDisplay::for_stream(std::FILE *stream, const std::string &run_id) {
  if (platform::is_terminal(stream)) {
    return std::make_unique<TerminalProgress>(stream, run_id);
  }
  return std::make_unique<PlainProgress>(stream, run_id);
}

}  // namespace nat::host
