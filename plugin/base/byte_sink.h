// Where a producer of bytes writes them: a string, a file, the body of a
// request being sent (art/body_pipe.h). The converter writes into one without
// knowing which.
#pragma once

#include <string>
#include <string_view>

namespace nat {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(std::string_view bytes) = 0;
  // A string that a writer may append to directly, instead of gathering
  // chunks and calling write (which would copy every byte twice); nullptr
  // when the sink needs its bytes in chunks.
  virtual std::string *append_target() { return nullptr; }
};

class StringSink : public ByteSink {
 public:
  explicit StringSink(std::string &out) : out_(out) {}
  void write(std::string_view bytes) override { out_.append(bytes.data(), bytes.size()); }
  std::string *append_target() override { return &out_; }

 private:
  std::string &out_;
};

}  // namespace nat
