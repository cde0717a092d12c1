#include "art/body_pipe.h"

#include <cstring>

namespace nat::art {

class PipeClosed : public std::runtime_error {
 public:
  PipeClosed() : std::runtime_error("the request was closed before the body was complete") {}
};

void BodyPipe::write(std::string_view bytes) {
  if (bytes.empty()) return;
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return chunks_.size() < max_chunks_ || reader_closed_; });
  if (reader_closed_) throw PipeClosed();
  chunks_.emplace_back(bytes);
  bytes_written_ += bytes.size();
  cv_.notify_all();
}

void BodyPipe::close_writer() {
  std::lock_guard<std::mutex> lock(mu_);
  writer_closed_ = true;
  cv_.notify_all();
}

void BodyPipe::fail_writer(const std::string &why) {
  std::lock_guard<std::mutex> lock(mu_);
  writer_closed_ = true;
  writer_error_ = why.empty() ? "conversion failed" : why;
  cv_.notify_all();
}

size_t BodyPipe::read(char *buffer, size_t capacity) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !chunks_.empty() || writer_closed_; });
  if (chunks_.empty()) {
    if (!writer_error_.empty()) throw std::runtime_error(writer_error_);
    return 0;
  }
  std::string &front = chunks_.front();
  size_t n = front.size() - offset_;
  if (n > capacity) n = capacity;
  std::memcpy(buffer, front.data() + offset_, n);
  offset_ += n;
  if (offset_ == front.size()) {
    chunks_.pop_front();
    offset_ = 0;
    cv_.notify_all();
  }
  return n;
}

void BodyPipe::close_reader() {
  std::lock_guard<std::mutex> lock(mu_);
  reader_closed_ = true;
  chunks_.clear();
  cv_.notify_all();
}

size_t BodyPipe::bytes_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_written_;
}

}  // namespace nat::art
