#include "convert/trajectory_converter.h"


namespace nat {

namespace {

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
  w.put(std::string_view(item.logprobs, item.logprobs_len));
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
