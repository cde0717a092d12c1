// A loopback TCP proxy that timestamps HTTP/1.1 messages as they pass.
//
// The reference ART server records when a request started, not when each
// body byte arrived, so the benchmark puts this proxy between the adapter
// and the server: the adapter's backend port is the proxy's. For every
// request it records when its headers were complete, when the first and the
// last body byte were handed to the server's socket (the proxy writes a chunk
// to the server before it reads the next one from the client, so the kernel
// buffers between the proxy and the server are the only slack), and the same
// for the response on its way back. Chunked and Content-Length bodies are
// followed; 1xx interim responses are skipped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nat::bench {

struct HttpExchange {
  using TimePoint = std::chrono::steady_clock::time_point;
  int connection = 0;
  std::string method;
  std::string target;  // path and query
  int status = 0;
  bool chunked_request = false;
  TimePoint request_start{};  // first byte of the request line
  TimePoint request_headers_end{};
  TimePoint request_body_first{};  // first body byte forwarded to the server
  TimePoint request_body_last{};   // last body byte (end of the terminating chunk)
  bool request_complete = false;
  uint64_t request_body_bytes = 0;  // decoded body bytes (without chunk framing)
  uint64_t request_wire_bytes = 0;  // everything after the headers
  TimePoint response_start{};       // first byte of the final status line
  TimePoint response_body_first{};
  TimePoint response_end{};
  bool response_complete = false;
  uint64_t response_body_bytes = 0;
};

class TimingProxy {
 public:
  // Listens on 127.0.0.1 (any free port) and forwards to 127.0.0.1:upstream_port.
  explicit TimingProxy(int upstream_port);
  ~TimingProxy();
  TimingProxy(const TimingProxy &) = delete;
  TimingProxy &operator=(const TimingProxy &) = delete;

  int port() const { return port_; }
  // A copy of every exchange seen so far, in request order per connection.
  std::vector<HttpExchange> exchanges() const;

 private:
  struct Connection;
  void accept_loop();
  void relay(std::shared_ptr<Connection> c, bool client_to_server);

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> relays_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<HttpExchange>> exchanges_;
  int next_connection_ = 0;

  friend class HttpFollower;
};

}  // namespace nat::bench
