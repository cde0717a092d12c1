// A bounded hand-over of body chunks from a producer's thread (the
// converter's, writing into it as a ByteSink) to the HTTP transfer, so the
// upload starts while the conversion still runs and at most a few chunks are
// held in memory.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>

#include "base/byte_sink.h"
#include "http/http_client.h"

namespace nat::art {

class BodyPipe : public ByteSink, public http::BodyReader {
 public:
  explicit BodyPipe(size_t max_chunks = 8) : max_chunks_(max_chunks) {}

  // Producer side. write() blocks while the pipe is full and throws once the
  // reader has gone away.
  void write(std::string_view bytes) override;
  void close_writer();
  void fail_writer(const std::string &why);

  // Consumer side.
  size_t read(char *buffer, size_t capacity) override;
  void close_reader();

  size_t bytes_written() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> chunks_;
  size_t offset_ = 0;  // into chunks_.front()
  size_t max_chunks_;
  size_t bytes_written_ = 0;
  bool writer_closed_ = false;
  bool reader_closed_ = false;
  std::string writer_error_;
};

}  // namespace nat::art
