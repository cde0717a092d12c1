#include "command_line/progress_display.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace nat::host {
namespace {

using nlohmann::json;

TEST(ProgressDisplay, ElapsedTime) {
  EXPECT_EQ(format_elapsed(std::chrono::seconds(0)), "00:00");
  EXPECT_EQ(format_elapsed(std::chrono::seconds(83)), "01:23");
  EXPECT_EQ(format_elapsed(std::chrono::seconds(3723)), "1:02:03");
}

TEST(ProgressDisplay, StepProgressFromAStepEvent) {
  const StepProgress progress = StepProgress::from_event(
      json::parse(R"({"type": "step", "step": 3, "num_gradient_steps": 10, "metrics": {"loss": 0.25}})"));
  EXPECT_EQ(progress.step, 3);
  EXPECT_EQ(progress.total, 10);
  EXPECT_TRUE(progress.has_loss);
  EXPECT_DOUBLE_EQ(progress.loss, 0.25);

  const StepProgress bare = StepProgress::from_event(json::parse(R"({"type": "step", "step": 1})"));
  EXPECT_EQ(bare.total, 0);
  EXPECT_FALSE(bare.has_loss);
}

TEST(ProgressDisplay, PlainLinesWhenNotATerminal) {
  std::FILE *stream = std::tmpfile();
  ASSERT_NE(stream, nullptr);
  {
    auto display = ProgressDisplay::for_stream(stream, "run_1");
    display->on_event(json::parse(R"({"type": "started"})"));
    display->on_event(json::parse(R"({"type": "warning", "code": "x", "message": "TLS is off"})"));
    display->on_event(
        json::parse(R"({"type": "step", "step": 1, "num_gradient_steps": 2, "metrics": {"loss": 0.5}})"));
    display->on_event(json::parse(R"({"type": "completed", "final": true})"));
    display->finish(json::parse(R"({"status": "completed", "message": "done"})"));
  }
  std::rewind(stream);
  std::string text;
  char chunk[256];
  while (std::fgets(chunk, sizeof chunk, stream) != nullptr) {
    text += chunk;
  }
  std::fclose(stream);
  EXPECT_EQ(text,
            "nat-trainer: [00:00] run_1: started\n"
            "nat-trainer: [00:00] run_1: warning: TLS is off\n"
            "nat-trainer: [00:00] run_1: step 1/2  loss 0.5\n"
            "nat-trainer: [00:00] run_1: completed: done\n");
}

}  // namespace
}  // namespace nat::host
