#include "convert/trajectory_converter.h"

#include "adapter/error.h"
#include "json/scanner.h"

namespace nat {

namespace {

using json::Kind;
using json::Scanner;

bool key_is(std::string_view raw, std::string_view name) {
  if (raw.find('\\') == std::string_view::npos) return raw == name;
  return Scanner::decode(raw) == name;
}

// Output buffered in chunks and handed to the sink when a chunk is full.
class ChunkWriter {
 public:
  explicit ChunkWriter(ByteSink &sink) : sink_(sink) { buf_.reserve(TrajectoryConverter::kChunkSize + 4096); }
  void put(std::string_view s) {
    if (s.size() > TrajectoryConverter::kChunkSize) {
      flush();
      sink_.write(s);
      return;
    }
    buf_.append(s.data(), s.size());
    if (buf_.size() >= TrajectoryConverter::kChunkSize) flush();
  }
  void flush() {
    if (!buf_.empty()) sink_.write(buf_);
    buf_.clear();
  }

 private:
  ByteSink &sink_;
  std::string buf_;
};

// One episode item as the converter needs it: spans into the input.
struct ItemSpans {
  Role role = Role::User;
  std::string_view content;   // raw string content, without quotes
  std::string_view logprobs;  // raw JSON value
};

ItemSpans read_item(Scanner &s) {
  ItemSpans item;
  s.begin_object();
  std::string_view key;
  while (s.next_key(key)) {
    if (key_is(key, "role")) {
      item.role = parse_role(s.string_value()).value_or(Role::Other);
    } else if (key_is(key, "content")) {
      item.content = s.string_raw();
    } else if (key_is(key, "logprobs")) {
      item.logprobs = s.skip_value();
    } else {
      s.skip_value();
    }
  }
  return item;
}

// NAT's _to_chat_msg: user and system keep their role, everything else
// (assistant, tool, function, environment, other) becomes "assistant".
const char *chat_role(Role role) {
  if (role == Role::User) return "user";
  if (role == Role::System) return "system";
  return "assistant";
}

void write_message(ChunkWriter &w, const ItemSpans &item) {
  w.put("{\"role\":\"");
  w.put(chat_role(item.role));
  w.put("\",\"content\":\"");
  w.put(item.content);
  w.put("\"}");
}

// openai Choice(index=0, logprobs=..., message={role, content}, finish_reason="stop")
void write_choice(ChunkWriter &w, const ItemSpans &item) {
  w.put("{\"finish_reason\":\"stop\",\"index\":0,\"logprobs\":");
  w.put(item.logprobs);
  w.put(",\"message\":{\"role\":\"assistant\",\"content\":\"");
  w.put(item.content);
  w.put("\"}}");
}

void write_episode(Scanner &s, ChunkWriter &w) {
  s.begin_array();
  size_t i = 0;
  w.put("{\"messages_and_choices\":[");
  while (s.next_element()) {
    ItemSpans item = read_item(s);
    if (i > 0) w.put(",");
    if (i > 0 && item.role == Role::Assistant) {
      write_choice(w, item);
    } else {
      write_message(w, item);
    }
    ++i;
  }
  w.put("]");
}

void write_trajectory(Scanner &s, ChunkWriter &w, const TrajectoryPlan &tp) {
  s.begin_object();
  std::string_view key;
  while (s.next_key(key)) {
    if (key_is(key, "episode")) {
      write_episode(s, w);
    } else {
      s.skip_value();
    }
  }
  w.put(",\"tools\":null,\"additional_histories\":[],\"reward\":");
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
  try {
    Scanner s(input_, max_depth_);
    s.begin_object();
    std::string_view key;
    bool first_group = true;
    while (s.next_key(key)) {
      if (!key_is(key, "trajectories")) {
        s.skip_value();
        continue;
      }
      s.begin_array();
      size_t g = 0;
      while (s.next_element()) {
        const GroupPlan &gp = plan_.groups.at(g);
        if (gp.kept == 0) {
          s.skip_value();
          ++g;
          continue;
        }
        if (!first_group) w.put(separator);
        first_group = false;
        w.put("{\"trajectories\":[");
        s.begin_array();
        size_t t = 0;
        bool first_traj = true;
        while (s.next_element()) {
          const TrajectoryPlan &tp = gp.trajectories.at(t);
          if (!tp.keep) {
            s.skip_value();
          } else {
            if (!first_traj) w.put(",");
            first_traj = false;
            write_trajectory(s, w, tp);
          }
          ++t;
        }
        w.put("],\"exceptions\":[],\"metadata\":{},\"metrics\":{},\"logs\":[]}");
        ++g;
      }
    }
  } catch (const std::exception &e) {
    // The plan was made from this input, so this is a bug, not bad input.
    throw Error(ErrorCode::Internal, std::string("conversion of a validated collection failed: ") + e.what());
  }
  w.put(close);
  w.flush();
}

}  // namespace nat
