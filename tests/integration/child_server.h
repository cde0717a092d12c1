// A server the integration tests start as a child process (the hostile
// server, the NeMo reference server): its first line on stdout is a JSON
// object (its ports); its stdin stays open until it is stopped (a server
// that reads it ends when the test dies).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

namespace nat::testing {

class ChildServer {
 public:
  explicit ChildServer(std::vector<std::string> args) {
    int out[2], in[2];
    if (::pipe(out) != 0 || ::pipe(in) != 0) throw std::runtime_error("pipe failed");
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    int rc = posix_spawnp(&pid_, args[0].c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(in[0]);
    stdin_ = in[1];
    ::fcntl(stdin_, F_SETFD, FD_CLOEXEC);
    if (rc != 0) {
      ::close(out[0]);
      pid_ = -1;
      throw std::runtime_error("cannot start " + args[0] + " " + (args.size() > 1 ? args[1] : ""));
    }
    std::string line;
    char ch;
    while (::read(out[0], &ch, 1) == 1 && ch != '\n') line.push_back(ch);
    ::close(out[0]);
    ready_ = nlohmann::json::parse(line, nullptr, false);
    if (!ready_.is_object()) {
      stop();
      throw std::runtime_error("server did not start: '" + line + "'");
    }
  }
  ~ChildServer() { stop(); }
  ChildServer(const ChildServer &) = delete;
  ChildServer &operator=(const ChildServer &) = delete;

  // SIGTERM, then SIGKILL when it has not ended within 5 s.
  void stop() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // The first line, as JSON.
  const nlohmann::json &ready() const { return ready_; }
  int port() const { return ready_.at("port").get<int>(); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port()); }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  nlohmann::json ready_;
};

}  // namespace nat::testing
