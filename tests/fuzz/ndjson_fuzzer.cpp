// libFuzzer harness: the training stream's NDJSON line splitter, fed in
// arbitrary chunk splits, and every line parsed as the adapter parses it.
//
// Input layout:
//   byte 0        bits 0-1: max line bytes: 16, 256, 4096, 16 MiB (the
//                 adapter's default native.max_response_bytes)
//   byte 1        n = (byte1 % 8) + 1 split sizes follow
//   bytes 2..n+1  chunk sizes, used cyclically; 0 feeds an empty chunk
//   the rest      the stream bytes
//
// Contract checked against a reference split of the whole stream, whatever
// the chunk split: when no line of the stream is longer than the limit (its
// '\n' not counted), feed() and finish() deliver exactly the non-empty,
// non-"\r" lines of the stream; when one is, a std::length_error is raised
// after exactly the lines before the first such line were delivered. Never
// more than the limit is pending. Each line then goes
// through nat::json::parse_checked(line, "training stream line"), which may
// only throw nat::Error(InvalidArgument), and the adapter's is_object() check
// and dump of the metrics.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "http/ndjson_lines.h"
#include "json/small_json.h"

namespace {

[[noreturn]] void invariant_failed(const char *what) {
  std::fprintf(stderr, "ndjson_fuzzer: invariant failed: %s\n", what);
  std::abort();
}
#define CHECK(cond)                       \
  do {                                    \
    if (!(cond)) invariant_failed(#cond); \
  } while (0)

constexpr size_t kLimits[4] = {16, 256, 4096, 16u << 20};

bool deliverable(std::string_view line) { return !line.empty() && line != "\r"; }

void parse_like_the_adapter(std::string_view line) {
  try {
    nlohmann::json metrics = nat::json::parse_checked(line, "training stream line");
    if (!metrics.is_object()) return;  // the adapter fails the job here
    (void)nat::json::dump(metrics);    // stored in the job's metadata and events
  } catch (const nat::Error &e) {
    CHECK(e.code() == nat::ErrorCode::InvalidArgument);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  const size_t limit = kLimits[data[0] & 3];
  const size_t nsizes = static_cast<size_t>(data[1] % 8) + 1;
  if (size < 2 + nsizes) return 0;
  const uint8_t *sizes = data + 2;
  std::string_view stream(reinterpret_cast<const char *>(data + 2 + nsizes), size - 2 - nsizes);

  // The reference: split the whole stream at every '\n'.
  // `before_too_long`: how many of them come before the first line longer
  // than the limit (all of them when there is none).
  std::vector<std::string_view> expected;
  size_t longest = 0, before_too_long = 0;
  {
    size_t start = 0;
    while (true) {
      size_t nl = stream.find('\n', start);
      std::string_view raw =
          stream.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      if (raw.size() > limit && longest <= limit) before_too_long = expected.size();
      if (raw.size() > longest) longest = raw.size();
      if (deliverable(raw)) expected.push_back(raw);
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }

  std::vector<std::string> got;
  auto on_line = [&](std::string_view line) { got.emplace_back(line); };
  nat::http::NdjsonLines lines(limit);
  bool too_long = false;
  try {
    size_t pos = 0, k = 0, empty_in_a_row = 0;
    while (pos < stream.size()) {
      size_t n = sizes[k++ % nsizes];
      if (n == 0) {
        lines.feed(std::string_view(), on_line);
        if (++empty_in_a_row >= nsizes)
          n = 1;  // all sizes 0: still make progress
        else
          continue;
      }
      empty_in_a_row = 0;
      if (n > stream.size() - pos) n = stream.size() - pos;
      lines.feed(stream.substr(pos, n), on_line);
      CHECK(lines.pending_bytes() <= limit);
      pos += n;
    }
    lines.finish(on_line);
    CHECK(lines.pending_bytes() == 0);
  } catch (const std::length_error &) {
    too_long = true;
  }

  // The limit holds for a line in one chunk as for one spanning chunks:
  // whether too_long is raised must not depend on the split.
  CHECK(too_long == (longest > limit));
  if (too_long) {
    CHECK(got.size() == before_too_long);
  } else {
    CHECK(got.size() == expected.size());
  }
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == expected[i]);

  for (const std::string &line : got) parse_like_the_adapter(line);
  return 0;
}
