#include "http/ndjson_lines.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Collector {
  std::vector<std::string> lines;
  std::function<void(std::string_view)> fn = [this](std::string_view l) { lines.emplace_back(l); };
};

// Feeds `stream` in pieces of `piece` bytes; true when it raised the length error.
bool feed_in_pieces(nat::http::NdjsonLines &nd, std::string_view stream, size_t piece, Collector &c) {
  try {
    for (size_t pos = 0; pos < stream.size(); pos += piece) nd.feed(stream.substr(pos, piece), c.fn);
    nd.finish(c.fn);
  } catch (const std::length_error &e) {
    EXPECT_STREQ(e.what(), "a training stream line exceeded 16 bytes");
    return true;
  }
  return false;
}

}  // namespace

TEST(NdjsonLines, SplitsLinesWhateverTheChunksSkippingEmptyOnes) {
  const std::string stream = "{\"a\":1}\r\n\n\r\n{\"b\":2}\n{\"c\":3}";
  for (size_t piece = 1; piece <= stream.size(); ++piece) {
    nat::http::NdjsonLines nd(16);
    Collector c;
    ASSERT_FALSE(feed_in_pieces(nd, stream, piece, c));
    EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"a\":1}\r", "{\"b\":2}", "{\"c\":3}"})) << piece;
    EXPECT_EQ(nd.pending_bytes(), 0u);
  }
}

TEST(NdjsonLines, RefusesALongLineAlsoWhenItArrivesInOneChunk) {
  // A line over the limit is refused whether it arrives in one feed() or
  // split over several, after the lines before it.
  const std::string stream = "{\"ok\":1}\n" + std::string(100, 'x') + "\n{\"after\":1}\n";
  for (size_t piece : {stream.size(), size_t{200}, size_t{50}, size_t{7}, size_t{1}}) {
    nat::http::NdjsonLines nd(16);
    Collector c;
    EXPECT_TRUE(feed_in_pieces(nd, stream, piece, c)) << piece;
    EXPECT_EQ(c.lines, std::vector<std::string>{"{\"ok\":1}"}) << piece;
  }
}

TEST(NdjsonLines, TheLimitIsTheLineWithoutItsNewline) {
  for (size_t piece : {size_t{1}, size_t{5}, size_t{64}}) {
    nat::http::NdjsonLines nd(16);
    Collector c;
    // 16 bytes: allowed; 15 bytes + '\r': allowed; 17 bytes: not.
    EXPECT_FALSE(feed_in_pieces(nd, std::string(16, 'a') + "\n" + std::string(15, 'b') + "\r\n", piece, c));
    EXPECT_EQ(c.lines.size(), 2u);
    nat::http::NdjsonLines nd2(16);
    Collector c2;
    EXPECT_TRUE(feed_in_pieces(nd2, std::string(17, 'a') + "\n", piece, c2)) << piece;
    EXPECT_TRUE(c2.lines.empty());
    nat::http::NdjsonLines nd3(16);
    Collector c3;
    EXPECT_TRUE(feed_in_pieces(nd3, std::string(16, 'a') + "\r\n", piece, c3)) << piece;
  }
}

TEST(NdjsonLines, NeverHoldsMoreThanTheLimit) {
  nat::http::NdjsonLines nd(16);
  Collector c;
  nd.feed(std::string(16, 'a'), c.fn);
  EXPECT_EQ(nd.pending_bytes(), 16u);
  EXPECT_THROW(nd.feed("a", c.fn), std::length_error);
  EXPECT_LE(nd.pending_bytes(), 16u);
}
