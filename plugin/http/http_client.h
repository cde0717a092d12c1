// HTTP over libcurl: unary requests with finite timeouts, and the streamed
// POST the training call needs (request body produced while it is sent,
// response read line by line, no read timeout, cancellable). libcurl is not
// linked: http/curl_library.cpp loads libcurl.so.4 at the first request, and
// without it every request fails with CURLE_FAILED_INIT and a message naming
// the library (see http/curl_library.h).
#pragma once

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nat::http {

struct TlsOptions {
  std::string ca_path;  // CA bundle file or directory; empty: the system's
  bool insecure_skip_verify = false;
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

// The request never got an HTTP answer: connection refused, timeout,
// truncated transfer, oversized response, or it was not sent because a
// header value held a control character (CURLE_BAD_FUNCTION_ARGUMENT).
// `curl_code` is the CURLcode.
class TransportError : public std::runtime_error {
 public:
  TransportError(int curl_code, const std::string &what) : std::runtime_error(what), curl_code_(curl_code) {}
  int curl_code() const { return curl_code_; }
  bool timed_out() const;

 private:
  int curl_code_;
};

struct RequestOptions {
  double connect_timeout_s = 10;
  double timeout_s = 60;  // whole request
  size_t max_response_bytes = 16u << 20;
  std::vector<std::string> headers;
  const std::atomic<bool> *cancel = nullptr;
};

// Supplies a streamed request body. read() blocks until bytes are available
// and returns 0 at the end of the body.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  virtual size_t read(char *buffer, size_t capacity) = 0;
};

struct StreamOptions {
  double connect_timeout_s = 10;
  double keepalive_idle_s = 30;
  size_t max_line_bytes = 16u << 20;
  // A non-2xx answer's body is read up to this size, then the transfer is
  // ended (a server that sends an endless error body cannot keep the call
  // going), and for at most error_body_timeout_s after its status arrived.
  size_t max_error_body_bytes = 1u << 20;
  double error_body_timeout_s = 60;
  const std::atomic<bool> *cancel = nullptr;
};

struct StreamResult {
  long status = 0;              // HTTP status, 0 if none arrived
  std::string error_body;       // the body of a non-2xx answer (capped)
  bool error_body_cut = false;  // reading it stopped at the cap or its deadline
  // The response body had a length of its own: chunked transfer encoding
  // (ended by the final zero-length chunk) or a Content-Length. Without it
  // (HTTP/1.0 style, ended by closing the connection) a clean end cannot be
  // told from a cut, and curl_code is CURLE_OK either way.
  bool framed = false;
  int curl_code = 0;       // CURLE_OK when the stream ended cleanly
  std::string curl_error;  // libcurl's message when it did not
  bool cancelled = false;
  double first_byte_sent_s = -1;  // when the first body byte was handed to libcurl, from the start
};

// Header lines ("Name: value") are checked before anything is sent: a value
// with a control character (bytes 0x00-0x1f, 0x7f) is refused with a
// TransportError(CURLE_BAD_FUNCTION_ARGUMENT) naming the header, never its
// value.
class HttpClient {
 public:
  explicit HttpClient(TlsOptions tls);

  HttpResponse get(const std::string &url, const RequestOptions &options) const;
  HttpResponse post_json(const std::string &url, std::string_view body, const RequestOptions &options) const;
  // A POST with a body of another type (a form, NDJSON); content_type has
  // no control characters.
  HttpResponse post(const std::string &url, std::string_view body, std::string_view content_type,
                    const RequestOptions &options) const;

  // POSTs a JSON body produced by `body` with chunked transfer encoding and
  // hands each non-empty line of a 2xx response to `on_line`. No overall or
  // idle timeout: TCP keepalive watches the connection instead.
  StreamResult post_streaming(const std::string &url, BodyReader &body,
                              const std::function<void(std::string_view)> &on_line,
                              const StreamOptions &options) const;

 private:
  TlsOptions tls_;
};

// The offset of the first control character (bytes 0x00-0x1f and 0x7f) in
// `value`, or npos. Such a byte in an HTTP header value could end the header
// and start another.
size_t control_char_at(std::string_view value);

// "byte 0x0d at offset 5": where control_char_at found one.
std::string describe_control_char(std::string_view value, size_t at);

// Calls curl_global_init once per process. That only records the flags (see
// http/curl_library.h): libcurl is loaded and initialised at the first
// request, so calling this from create costs nothing.
void ensure_curl_initialized();

}  // namespace nat::http
