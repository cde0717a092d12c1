// A TrajectoryCollection of DPO episodes as NAT's NeMo Customizer adapter
// turns it into a dataset: one {"prompt", "chosen_response",
// "rejected_response"} JSON line per DPOItem, split 80/20 into the training
// and validation files, byte for byte as NAT writes them (json.dumps lines
// joined by "\n", no final newline).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nat::customizer {

struct DpoDataset {
  std::string run_id;
  std::string training_jsonl;
  std::string validation_jsonl;
  size_t items = 0;
  size_t training_items = 0;
  size_t validation_items = 0;
  size_t trajectories = 0;
  // Trajectories whose episode is a list of EpisodeItems (ART's kind): NAT
  // reads them as such and skips them.
  size_t skipped_trajectories = 0;
};

// Validates the collection: NAT's TrajectoryCollection, each episode a list
// of DPOItems (prompt: a string or a list of {role, content} messages;
// chosen_response and rejected_response strings) or, as NAT's
// list[EpisodeItem] | list[DPOItem] allows, a list of EpisodeItems, which
// NAT skips (so does this). Throws
// nat::Error(InvalidArgument) naming trajectories[g][t].episode[i] and the
// field; "No DPO items found in trajectories" when there is none.
// full_history: NAT's use_full_message_history.
DpoDataset build_dpo_dataset(std::string_view collection_json, bool full_history, int max_depth);

// NAT's split: the first max(1, int(n * 0.8)) items train; the rest
// validate, or the last item when nothing is left.
size_t training_split(size_t items);

}  // namespace nat::customizer
