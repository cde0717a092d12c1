#include "http/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>

#include "http/ndjson_lines.h"

namespace nat::http {

namespace {

struct CurlDeleter {
  void operator()(CURL *c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist *l) const { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

long to_ms(double s) {
  if (s <= 0) return 0;
  double ms = s * 1000.0;
  if (ms > 2e9) ms = 2e9;
  return ms < 1 ? 1 : static_cast<long>(ms);
}

struct UnaryState {
  std::string body;
  size_t limit = 0;
  bool too_large = false;
  const std::atomic<bool> *cancel = nullptr;
};

size_t unary_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
  auto *st = static_cast<UnaryState *>(userdata);
  size_t n = size * nmemb;
  if (st->body.size() + n > st->limit) {
    st->too_large = true;
    return 0;
  }
  st->body.append(ptr, n);
  return n;
}

int cancel_progress(void *clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto *flag = static_cast<const std::atomic<bool> *>(clientp);
  return flag && flag->load() ? 1 : 0;
}

void apply_tls(CURL *c, const TlsOptions &tls) {
  if (tls.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  }
  if (!tls.ca_path.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, tls.ca_path.c_str());
}

std::string describe(CURLcode code, const char *errbuf, const std::string &url) {
  std::string msg = errbuf && *errbuf ? std::string(errbuf) : std::string(curl_easy_strerror(code));
  return msg + " (" + url + ")";
}

// Refuses a header line whose value could end the header and start another.
void check_header_line(const std::string &line) {
  size_t colon = line.find(':');
  std::string_view value =
      colon == std::string::npos ? std::string_view(line) : std::string_view(line).substr(colon + 1);
  size_t at = control_char_at(value);
  if (at == std::string_view::npos) return;
  std::string name = colon == std::string::npos ? std::string("a") : "the " + line.substr(0, colon);
  if (control_char_at(name) != std::string::npos || name.size() > 64) name = "a";
  throw TransportError(CURLE_BAD_FUNCTION_ARGUMENT, "refusing to send " + name +
                                                        " header: its value contains a "
                                                        "control character (" +
                                                        describe_control_char(value, at) + ")");
}

HttpResponse perform_unary(const TlsOptions &tls, const std::string &url, const std::string *post_body,
                           const RequestOptions &o, std::string_view content_type = "application/json") {
  for (const auto &line : o.headers) check_header_line(line);
  ensure_curl_initialized();
  CurlPtr c(curl_easy_init());
  if (!c) throw TransportError(CURLE_FAILED_INIT, "could not create an HTTP handle");
  UnaryState st;
  st.limit = o.max_response_bytes;
  char errbuf[CURL_ERROR_SIZE] = {0};
  SlistPtr headers;
  curl_slist *h = nullptr;
  for (const auto &line : o.headers) h = curl_slist_append(h, line.c_str());
  if (post_body) h = curl_slist_append(h, ("Content-Type: " + std::string(content_type)).c_str());
  h = curl_slist_append(h, "Expect:");
  headers.reset(h);
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT_MS, to_ms(o.connect_timeout_s));
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, to_ms(o.timeout_s));
  curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, unary_write);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  if (o.cancel) {
    curl_easy_setopt(c.get(), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c.get(), CURLOPT_XFERINFOFUNCTION, cancel_progress);
    curl_easy_setopt(c.get(), CURLOPT_XFERINFODATA, o.cancel);
  }
  if (post_body) {
    curl_easy_setopt(c.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, post_body->data());
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post_body->size()));
  }
  apply_tls(c.get(), tls);
  CURLcode rc = curl_easy_perform(c.get());
  if (st.too_large)
    throw TransportError(CURLE_WRITE_ERROR, "response larger than " + std::to_string(o.max_response_bytes) +
                                                " bytes (" + url + ")");
  if (rc != CURLE_OK) throw TransportError(rc, describe(rc, errbuf, url));
  HttpResponse r;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &r.status);
  r.body = std::move(st.body);
  return r;
}

struct StreamState {
  CURL *curl = nullptr;
  BodyReader *body = nullptr;
  const std::function<void(std::string_view)> *on_line = nullptr;
  NdjsonLines *lines = nullptr;
  std::string error_body;
  size_t max_error = 0;
  bool error_body_cut = false;
  // When the first byte of a non-2xx body arrived; the progress callback
  // ends the transfer error_body_timeout after it.
  bool error_started = false;
  std::chrono::steady_clock::time_point error_start;
  double error_body_timeout_s = 60;
  const std::atomic<bool> *cancel = nullptr;
  // Framing of the current response (reset at each status line: 1xx
  // interim answers come first).
  bool chunked = false;
  bool has_length = false;
  std::string callback_error;
  bool body_started = false;
  std::chrono::steady_clock::time_point start;
  double first_byte_sent_s = -1;
};

bool header_is(std::string_view line, std::string_view name) {
  if (line.size() < name.size() + 1 || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

size_t stream_header(char *ptr, size_t size, size_t nitems, void *userdata) {
  auto *st = static_cast<StreamState *>(userdata);
  size_t n = size * nitems;
  std::string_view line(ptr, n);
  if (line.rfind("HTTP/", 0) == 0) {
    st->chunked = false;
    st->has_length = false;
  } else if (header_is(line, "transfer-encoding")) {
    std::string value;
    for (char c : line.substr(18))
      value.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    // chunked must be the last coding for the body to be self-delimited.
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
    st->chunked = value.size() >= 7 && value.compare(value.size() - 7, 7, "chunked") == 0;
  } else if (header_is(line, "content-length")) {
    st->has_length = true;
  }
  return n;
}

int stream_progress(void *clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto *st = static_cast<StreamState *>(clientp);
  if (st->cancel && st->cancel->load()) return 1;
  if (st->error_started &&
      std::chrono::duration<double>(std::chrono::steady_clock::now() - st->error_start).count() >
          st->error_body_timeout_s) {
    st->error_body_cut = true;
    return 1;
  }
  return 0;
}

size_t stream_read(char *buffer, size_t size, size_t nitems, void *userdata) {
  auto *st = static_cast<StreamState *>(userdata);
  try {
    size_t n = st->body->read(buffer, size * nitems);
    if (n > 0 && st->first_byte_sent_s < 0)
      st->first_byte_sent_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - st->start).count();
    return n;
  } catch (const std::exception &e) {
    st->callback_error = std::string("request body: ") + e.what();
    return CURL_READFUNC_ABORT;
  }
}

size_t stream_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
  auto *st = static_cast<StreamState *>(userdata);
  size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    if (!st->error_started) {
      st->error_started = true;
      st->error_start = std::chrono::steady_clock::now();
    }
    size_t room = st->max_error > st->error_body.size() ? st->max_error - st->error_body.size() : 0;
    if (n > room) {
      // Full: what follows is not read (an endless body would keep the
      // transfer, and the job, going forever).
      st->error_body.append(ptr, room);
      st->error_body_cut = true;
      return 0;
    }
    st->error_body.append(ptr, n);
    return n;
  }
  try {
    st->lines->feed(std::string_view(ptr, n), *st->on_line);
  } catch (const std::exception &e) {
    st->callback_error = e.what();
    return 0;
  }
  return n;
}

}  // namespace

size_t control_char_at(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

std::string describe_control_char(std::string_view value, size_t at) {
  static const char *hex = "0123456789abcdef";
  auto c = static_cast<unsigned char>(value[at]);
  return std::string("byte 0x") + hex[c >> 4] + hex[c & 0xF] + " at offset " + std::to_string(at);
}

bool TransportError::timed_out() const { return curl_code_ == CURLE_OPERATION_TIMEDOUT; }

void ensure_curl_initialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::HttpClient(TlsOptions tls) : tls_(std::move(tls)) {}

HttpResponse HttpClient::get(const std::string &url, const RequestOptions &options) const {
  return perform_unary(tls_, url, nullptr, options);
}

HttpResponse HttpClient::post_json(const std::string &url, std::string_view body,
                                   const RequestOptions &options) const {
  std::string copy(body);
  return perform_unary(tls_, url, &copy, options);
}

HttpResponse HttpClient::post(const std::string &url, std::string_view body, std::string_view content_type,
                              const RequestOptions &options) const {
  std::string copy(body);
  return perform_unary(tls_, url, &copy, options, content_type);
}

StreamResult HttpClient::post_streaming(const std::string &url, BodyReader &body,
                                        const std::function<void(std::string_view)> &on_line,
                                        const StreamOptions &o) const {
  ensure_curl_initialized();
  CurlPtr c(curl_easy_init());
  if (!c) throw TransportError(CURLE_FAILED_INIT, "could not create an HTTP handle");
  StreamState st;
  st.curl = c.get();
  st.body = &body;
  st.on_line = &on_line;
  NdjsonLines lines(o.max_line_bytes);
  st.lines = &lines;
  st.max_error = o.max_error_body_bytes;
  st.error_body_timeout_s = o.error_body_timeout_s;
  st.cancel = o.cancel;
  st.start = std::chrono::steady_clock::now();
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist *h = nullptr;
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, "Transfer-Encoding: chunked");
  h = curl_slist_append(h, "Expect:");
  SlistPtr headers(h);
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT_MS, to_ms(o.connect_timeout_s));
  curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c.get(), CURLOPT_POST, 1L);
  curl_easy_setopt(c.get(), CURLOPT_READFUNCTION, stream_read);
  curl_easy_setopt(c.get(), CURLOPT_READDATA, &st);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, stream_write);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, stream_header);
  curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &st);
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.get(), CURLOPT_TCP_KEEPALIVE, 1L);
  // Clamped before the cast (a double outside long's range, or NaN, is UB to
  // convert): 1 .. 32767 s, Linux's TCP_KEEPIDLE range; the config refuses
  // values outside it anyway.
  long idle = o.keepalive_idle_s >= 32767 ? 32767L
              : o.keepalive_idle_s >= 1   ? static_cast<long>(o.keepalive_idle_s)
                                          : 1L;
  curl_easy_setopt(c.get(), CURLOPT_TCP_KEEPIDLE, idle < 1 ? 1L : idle);
  curl_easy_setopt(c.get(), CURLOPT_TCP_KEEPINTVL, idle < 3 ? 1L : idle / 3);
  curl_easy_setopt(c.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c.get(), CURLOPT_XFERINFOFUNCTION, stream_progress);
  curl_easy_setopt(c.get(), CURLOPT_XFERINFODATA, &st);
  apply_tls(c.get(), tls_);
  CURLcode rc = curl_easy_perform(c.get());
  StreamResult r;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &r.status);
  r.error_body = std::move(st.error_body);
  r.error_body_cut = st.error_body_cut;
  r.framed = st.chunked || st.has_length;
  r.first_byte_sent_s = st.first_byte_sent_s;
  r.curl_code = rc;
  r.cancelled = rc == CURLE_ABORTED_BY_CALLBACK && o.cancel && o.cancel->load();
  if (rc != CURLE_OK) {
    if (!st.callback_error.empty()) {
      r.curl_error = st.callback_error;
    } else {
      r.curl_error = describe(rc, errbuf, url);
    }
  } else if (r.status >= 200 && r.status < 300) {
    // A last line without its newline still counts: the stream ended cleanly.
    try {
      lines.finish(on_line);
    } catch (const std::exception &e) {
      r.curl_code = CURLE_WRITE_ERROR;
      r.curl_error = e.what();
    }
  }
  return r;
}

}  // namespace nat::http
