#include "timing_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace nat::bench {

struct TimingProxy::Connection {
  int id = 0;
  int client_fd = -1;
  int server_fd = -1;
  std::vector<HttpExchange *> exchanges;  // owned by the proxy
  size_t next_response = 0;
  bool head_pending = false;
};

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

bool write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

// Follows the HTTP messages of one direction of one connection.
class HttpFollower {
 public:
  using TimePoint = HttpExchange::TimePoint;
  HttpFollower(TimingProxy &proxy, TimingProxy::Connection &conn, bool requests)
      : proxy_(proxy), conn_(conn), requests_(requests) {}

  void feed(const char *p, size_t n, TimePoint t) {
    while (n > 0) {
      switch (state_) {
        case State::Headers: {
          if (head_.empty() && !started_) {
            started_ = true;
            message_start(t);
          }
          // Accumulate until the blank line.
          size_t take = 0;
          bool done = false;
          while (take < n) {
            head_.push_back(p[take++]);
            size_t hs = head_.size();
            if (hs >= 4 && head_.compare(hs - 4, 4, "\r\n\r\n") == 0) {
              done = true;
              break;
            }
          }
          p += take;
          n -= take;
          if (done) headers_done(t);
          break;
        }
        case State::Length: {
          size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n));
          body(take, take, t);
          remaining_ -= take;
          p += take;
          n -= take;
          if (remaining_ == 0) message_end(t);
          break;
        }
        case State::UntilClose:
          body(n, n, t);
          n = 0;
          break;
        case State::ChunkSize:
        case State::Trailer: {
          size_t take = 0;
          bool eol = false;
          while (take < n) {
            char c = p[take++];
            line_.push_back(c);
            if (c == '\n') {
              eol = true;
              break;
            }
          }
          body(0, take, t);
          p += take;
          n -= take;
          if (!eol) break;
          std::string line = line_;
          line_.clear();
          if (state_ == State::ChunkSize) {
            uint64_t size = std::strtoull(line.c_str(), nullptr, 16);
            if (size == 0) {
              state_ = State::Trailer;
            } else {
              remaining_ = size;
              state_ = State::ChunkData;
            }
          } else if (line == "\r\n" || line == "\n") {
            message_end(t);
          }
          break;
        }
        case State::ChunkData: {
          size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n));
          body(take, take, t);
          remaining_ -= take;
          p += take;
          n -= take;
          if (remaining_ == 0) state_ = State::ChunkCrlf;
          break;
        }
        case State::ChunkCrlf: {
          size_t take = std::min<size_t>(n, crlf_left_);
          body(0, take, t);
          crlf_left_ -= take;
          p += take;
          n -= take;
          if (crlf_left_ == 0) {
            crlf_left_ = 2;
            state_ = State::ChunkSize;
          }
          break;
        }
      }
    }
  }

  void closed(TimePoint t) {
    if (state_ == State::UntilClose) message_end(t);
  }

 private:
  enum class State { Headers, Length, UntilClose, ChunkSize, ChunkData, ChunkCrlf, Trailer };

  void message_start(TimePoint t) {
    std::lock_guard<std::mutex> lock(proxy_.mu_);
    if (requests_) {
      proxy_.exchanges_.push_back(std::make_unique<HttpExchange>());
      current_ = proxy_.exchanges_.back().get();
      current_->connection = conn_.id;
      current_->request_start = t;
      conn_.exchanges.push_back(current_);
    } else {
      current_ =
          conn_.next_response < conn_.exchanges.size() ? conn_.exchanges[conn_.next_response] : nullptr;
      if (current_) current_->response_start = t;
    }
  }

  void headers_done(TimePoint t) {
    std::string_view h(head_);
    std::string first(h.substr(0, h.find("\r\n")));
    bool chunked = false;
    bool has_length = false;
    uint64_t length = 0;
    size_t pos = h.find("\r\n") + 2;
    while (pos < h.size()) {
      size_t end = h.find("\r\n", pos);
      if (end == std::string_view::npos || end == pos) break;
      std::string_view line = h.substr(pos, end - pos);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name = lower(line.substr(0, colon));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos) chunked = true;
        if (name == "content-length") {
          has_length = true;
          length = std::strtoull(std::string(value).c_str(), nullptr, 10);
        }
      }
      pos = end + 2;
    }
    head_.clear();
    int status = 0;
    bool no_body = false;
    {
      std::lock_guard<std::mutex> lock(proxy_.mu_);
      if (requests_) {
        if (current_) {
          size_t sp1 = first.find(' ');
          size_t sp2 = first.find(' ', sp1 + 1);
          current_->method = first.substr(0, sp1);
          current_->target = first.substr(sp1 + 1, sp2 - sp1 - 1);
          current_->request_headers_end = t;
          current_->chunked_request = chunked;
          conn_.head_pending = current_->method == "HEAD";
        }
      } else {
        size_t sp1 = first.find(' ');
        status = std::atoi(first.c_str() + (sp1 == std::string::npos ? 0 : sp1 + 1));
        if (status >= 100 && status < 200) {
          // Interim: the final response is still to come.
          started_ = false;
          state_ = State::Headers;
          return;
        }
        if (current_) current_->status = status;
        no_body = status == 204 || status == 304 || conn_.head_pending;
      }
    }
    if (requests_ && !chunked && !has_length) no_body = true;  // a request without a body
    if (no_body || (has_length && length == 0 && !chunked)) {
      message_end(t);
    } else if (chunked) {
      state_ = State::ChunkSize;
    } else if (has_length) {
      remaining_ = length;
      state_ = State::Length;
    } else {
      state_ = State::UntilClose;
    }
  }

  void body(size_t payload, size_t wire, TimePoint t) {
    if (wire == 0 && payload == 0) return;
    std::lock_guard<std::mutex> lock(proxy_.mu_);
    if (!current_) return;
    if (requests_) {
      if (current_->request_wire_bytes == 0) current_->request_body_first = t;
      current_->request_wire_bytes += wire;
      current_->request_body_bytes += payload;
      current_->request_body_last = t;
    } else {
      if (current_->response_body_bytes == 0 && payload > 0) current_->response_body_first = t;
      current_->response_body_bytes += payload;
    }
  }

  void message_end(TimePoint t) {
    {
      std::lock_guard<std::mutex> lock(proxy_.mu_);
      if (current_) {
        if (requests_) {
          current_->request_complete = true;
          if (current_->request_wire_bytes > 0) current_->request_body_last = t;
        } else {
          current_->response_end = t;
          current_->response_complete = true;
          ++conn_.next_response;
        }
      } else if (!requests_) {
        ++conn_.next_response;
      }
    }
    current_ = nullptr;
    started_ = false;
    state_ = State::Headers;
  }

  TimingProxy &proxy_;
  TimingProxy::Connection &conn_;
  bool requests_;
  State state_ = State::Headers;
  bool started_ = false;
  std::string head_;
  std::string line_;
  uint64_t remaining_ = 0;
  size_t crlf_left_ = 2;
  HttpExchange *current_ = nullptr;
};

TimingProxy::TimingProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("proxy: socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("proxy: bind/listen failed");
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TimingProxy::~TimingProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto &c : connections_) {
      ::shutdown(c->client_fd, SHUT_RDWR);
      ::shutdown(c->server_fd, SHUT_RDWR);
    }
  }
  for (auto &t : relays_) t.join();
  for (auto &c : connections_) {
    ::close(c->client_fd);
    ::close(c->server_fd);
  }
}

void TimingProxy::accept_loop() {
  for (;;) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    int r = ::poll(&pfd, 1, 200);
    if (stopping_) return;
    if (r <= 0) continue;
    int cfd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (cfd < 0) {
      if (stopping_) return;
      continue;
    }
    int sfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (sfd < 0 || ::connect(sfd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
      ::close(cfd);
      if (sfd >= 0) ::close(sfd);
      continue;
    }
    int one = 1;
    ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_shared<Connection>();
    c->client_fd = cfd;
    c->server_fd = sfd;
    std::lock_guard<std::mutex> lock(mu_);
    c->id = ++next_connection_;
    connections_.push_back(c);
    relays_.emplace_back([this, c] { relay(c, true); });
    relays_.emplace_back([this, c] { relay(c, false); });
  }
}

void TimingProxy::relay(std::shared_ptr<Connection> c, bool client_to_server) {
  int from = client_to_server ? c->client_fd : c->server_fd;
  int to = client_to_server ? c->server_fd : c->client_fd;
  HttpFollower follower(*this, *c, client_to_server);
  std::vector<char> buf(256 * 1024);
  for (;;) {
    ssize_t n = ::recv(from, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!write_all(to, buf.data(), static_cast<size_t>(n))) break;
    follower.feed(buf.data(), static_cast<size_t>(n), std::chrono::steady_clock::now());
  }
  follower.closed(std::chrono::steady_clock::now());
  ::shutdown(to, SHUT_WR);
  ::shutdown(from, SHUT_RD);
}

std::vector<HttpExchange> TimingProxy::exchanges() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<HttpExchange> out;
  for (const auto &e : exchanges_) out.push_back(*e);
  return out;
}

}  // namespace nat::bench
