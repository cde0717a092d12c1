#include "convert/trajectory_converter.h"

#include <cstdint>
#include <cstring>
#include <memory>

#include "json/fast_scan.h"

// minify_json's fast path: SSE2 to classify 16 bytes at a time, SSSE3's
// pshufb to pack the kept ones, chosen at run time (x86-64's baseline is SSE2).
#if defined(__SSE2__) && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define NAT_MINIFY_SIMD 1
#include <tmmintrin.h>
#else
#define NAT_MINIFY_SIMD 0
#endif

namespace nat {

namespace {

// Where minify_json is: in a string, after a backslash in a string. The text
// was validated by the scanner; the minifier goes through it in blocks, so
// it carries this state from one block to the next instead of calling
// fast::string_end (which needs the whole string in view).
struct MinifyState {
  bool in_string = false;
  bool escaped = false;
};

// Byte by byte: the tail of a text, blocks with a backslash, and machines
// without SSSE3. Writes at most end - p bytes.
char *minify_bytes(const char *p, const char *end, char *o, MinifyState &st) {
  bool in_string = st.in_string, escaped = st.escaped;
  for (; p < end; ++p) {
    const char c = *p;
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      *o++ = c;
    } else if (!json::fast::is_ws(c)) {
      if (c == '"') in_string = true;
      *o++ = c;
    }
  }
  st.in_string = in_string;
  st.escaped = escaped;
  return o;
}

#if NAT_MINIFY_SIMD
// For each 8-bit mask of bytes to drop: the pshufb indices of the bytes kept,
// packed to the front, and their count.
struct PackTable {
  uint64_t shuffle[256];
  uint8_t kept[256];
  constexpr PackTable() : shuffle(), kept() {
    for (unsigned m = 0; m < 256; ++m) {
      uint64_t s = 0;
      unsigned n = 0;
      for (unsigned i = 0; i < 8; ++i)
        if (!(m & (1u << i))) s |= static_cast<uint64_t>(i) << (8 * n++);
      for (unsigned j = n; j < 8; ++j) s |= uint64_t{0x80} << (8 * j);
      shuffle[m] = s;
      kept[m] = static_cast<uint8_t>(n);
    }
  }
};
constexpr PackTable kPack;

// Minifies while 32 bytes remain, 16 at a time; advances p. Every load is
// below `end`; the output never runs ahead of the input, and each store
// writes at most 16 bytes past the output position, so nothing is written
// past out + the input's size.
__attribute__((target("ssse3"))) char *minify_ssse3(const char *&p, const char *end, char *o,
                                                    MinifyState &st) {
  // State in locals (stores through `o` may alias `st`) and branch-free: all
  // ones when the block starts inside a string. `escaped` is false here.
  unsigned in_string = st.in_string ? 0xFFFFu : 0u;
  while (end - p >= 32) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))) {
      // A backslash (rare in logprobs): these 16 bytes one by one, plus the
      // byte an escape at their end applies to (p + 17 <= end).
      MinifyState s{in_string != 0, false};
      o = minify_bytes(p, p + 16, o, s);
      p += 16;
      if (s.escaped) o = minify_bytes(p, p + 1, o, s), ++p;
      in_string = s.in_string ? 0xFFFFu : 0u;
      continue;
    }
    // Without backslashes every quote opens or closes a string: the bytes
    // inside strings are the prefix XOR of the quote mask.
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"'))));
    m ^= m << 1;
    m ^= m << 2;
    m ^= m << 4;
    m ^= m << 8;
    m = (m ^ in_string) & 0xFFFFu;
    in_string = (0u - (m >> 15)) & 0xFFFFu;
    const __m128i ws = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
    const unsigned drop = static_cast<unsigned>(_mm_movemask_epi8(ws)) & ~m;
    const unsigned lo = drop & 0xFFu, hi = drop >> 8;
    const __m128i shuffle = _mm_set_epi64x(static_cast<long long>(kPack.shuffle[hi] + 0x0808080808080808ull),
                                           static_cast<long long>(kPack.shuffle[lo]));
    const __m128i packed = _mm_shuffle_epi8(v, shuffle);
    _mm_storel_epi64(reinterpret_cast<__m128i *>(o), packed);
    o += kPack.kept[lo];
    _mm_storel_epi64(reinterpret_cast<__m128i *>(o), _mm_unpackhi_epi64(packed, packed));
    o += kPack.kept[hi];
    p += 16;
  }
  st.in_string = in_string != 0;
  return o;
}

bool cpu_has_ssse3() {
  static const bool has = __builtin_cpu_supports("ssse3");
  return has;
}
#endif

// Whether s holds a '\n' or a '\r'. In JSON text those bytes can only be
// insignificant whitespace (strings hold them escaped).
bool has_line_break(std::string_view s) {
  const char *p = s.data(), *end = p + s.size();
#if NAT_MINIFY_SIMD
  const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
  for (; end - p >= 32; p += 32) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 16));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, nl), _mm_cmpeq_epi8(a, cr)),
                                     _mm_or_si128(_mm_cmpeq_epi8(b, nl), _mm_cmpeq_epi8(b, cr)));
    if (_mm_movemask_epi8(hit)) return true;
  }
#endif
  for (; p < end; ++p)
    if (*p == '\n' || *p == '\r') return true;
  return false;
}

}  // namespace

size_t minify_json(std::string_view json, char *out) {
  const char *p = json.data(), *end = p + json.size();
  char *o = out;
  MinifyState st;
#if NAT_MINIFY_SIMD
  if (cpu_has_ssse3()) o = minify_ssse3(p, end, o, st);
#endif
  o = minify_bytes(p, end, o, st);
  return static_cast<size_t>(o - out);
}

namespace {

// Output buffered in chunks and handed to the sink when a chunk is full.
class ChunkWriter {
 public:
  static constexpr size_t kChunk = TrajectoryConverter::kChunkSize;

  // Uninitialised: only the pages written are touched. Room for a chunk
  // that is not full yet plus one piece of at most kChunk bytes.
  // With a sink that takes appends (a whole body built in memory), bytes go
  // straight there: no chunk buffer to fault in and no second copy.
  explicit ChunkWriter(ByteSink &sink)
      : sink_(sink), direct_(sink.append_target()), buf_(direct_ ? nullptr : new char[2 * kChunk]) {}

  void put(std::string_view s) {
    if (s.empty()) return;  // its data() may be null: no memcpy
    if (direct_) {
      direct_->append(s.data(), s.size());
      return;
    }
    if (s.size() > kChunk) {
      flush();
      sink_.write(s);
      return;
    }
    std::memcpy(buf_.get() + size_, s.data(), s.size());
    size_ += s.size();
    if (size_ >= kChunk) flush();
  }

  // A JSON value from the input. Copied byte for byte, unless it holds a line
  // break (which would split a JSON Lines record): then minified,
  // without any insignificant whitespace. Not minified always: the spans of
  // Python's json.dumps hold ", " and ": " (no line break), and minifying
  // them costs 3-5 times a copy on the hot path (measured: +30 % of the
  // whole convert), while the check is a fast scan.
  void put_json(std::string_view s) {
    if (!has_line_break(s)) {
      put(s);
      return;
    }
    if (direct_) {
      const size_t at = direct_->size();
      direct_->resize(at + s.size());
      direct_->resize(at + minify_json(s, direct_->data() + at));
      return;
    }
    if (s.size() > kChunk) {
      flush();
      std::unique_ptr<char[]> tmp(new char[s.size()]);
      sink_.write(std::string_view(tmp.get(), minify_json(s, tmp.get())));
      return;
    }
    size_ += minify_json(s, buf_.get() + size_);
    if (size_ >= kChunk) flush();
  }

  void flush() {
    if (size_ > 0) sink_.write(std::string_view(buf_.get(), size_));
    size_ = 0;
  }

 private:
  ByteSink &sink_;
  std::string *direct_;
  std::unique_ptr<char[]> buf_;
  size_t size_ = 0;  // < kChunk between calls
};

// NAT's _to_chat_msg: user and system keep their role, everything else
// (assistant, tool, function, environment, other) becomes "assistant".
std::string_view chat_role(Role role) {
  if (role == Role::User) return "user";
  if (role == Role::System) return "system";
  return "assistant";
}

void write_message(ChunkWriter &w, const ItemSpan &item) {
  w.put("{\"role\":\"");
  w.put(chat_role(item.role));
  w.put("\",\"content\":\"");
  w.put(std::string_view(item.content, item.content_len));
  w.put("\"}");
}

// openai Choice(index=0, logprobs=..., message={role, content}, finish_reason="stop")
void write_choice(ChunkWriter &w, const ItemSpan &item) {
  w.put("{\"finish_reason\":\"stop\",\"index\":0,\"logprobs\":");
  w.put_json(std::string_view(item.logprobs, item.logprobs_len));
  w.put(",\"message\":{\"role\":\"assistant\",\"content\":\"");
  w.put(std::string_view(item.content, item.content_len));
  w.put("\"}}");
}

void write_trajectory(ChunkWriter &w, const CollectionPlan &plan, const TrajectoryPlan &tp) {
  w.put("{\"messages_and_choices\":[");
  for (size_t i = 0; i < tp.item_count; ++i) {
    const ItemSpan &item = plan.items[tp.first_item + i];
    if (i > 0) w.put(",");
    // Assistant items after the first become Choices; validation guarantees
    // they carry logprobs.
    if (i > 0 && item.role == Role::Assistant && item.logprobs) {
      write_choice(w, item);
    } else {
      write_message(w, item);
    }
  }
  w.put("],\"tools\":null,\"additional_histories\":[],\"reward\":");
  w.put(tp.reward);
  w.put(",\"metrics\":{},\"metadata\":{},\"logs\":[]}");
}

}  // namespace

TrajectoryConverter::TrajectoryConverter(std::string_view input, const CollectionPlan &plan, int max_depth)
    : input_(input), plan_(plan), max_depth_(max_depth) {}

void TrajectoryConverter::write_groups(ByteSink &sink, std::string_view open, std::string_view separator,
                                       std::string_view close) {
  ChunkWriter w(sink);
  w.put(open);
  bool first_group = true;
  for (const GroupPlan &gp : plan_.groups) {
    if (gp.kept == 0) continue;
    if (!first_group) w.put(separator);
    first_group = false;
    w.put("{\"trajectories\":[");
    bool first_traj = true;
    for (const TrajectoryPlan &tp : gp.trajectories) {
      if (!tp.keep) continue;
      if (!first_traj) w.put(",");
      first_traj = false;
      write_trajectory(w, plan_, tp);
    }
    w.put("],\"exceptions\":[],\"metadata\":{},\"metrics\":{},\"logs\":[]}");
  }
  w.put(close);
  w.flush();
}

}  // namespace nat
