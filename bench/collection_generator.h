// Deterministic generator of NAT TrajectoryCollection JSON for the benchmark.
//
// The shape is the one NAT's ART trajectory builder emits (and the one of the
// shared measuring script gen_collection.py): per trajectory a system turn, a
// user turn, then `turns` assistant turns, each followed (but the last) by an
// optional tool turn (30 %) and a user turn. Assistant turns carry OpenAI
// ChoiceLogprobs with vLLM's "token_id:N" tokens, a `bytes` list and one
// top_logprob each. Texts mix ASCII with unicode (ü, 漢字, 🎲) and characters
// that need escapes (quote, backslash, tab, newline); tool contents are JSON
// text inside a string. Separators are Python's json.dump defaults (", ",
// ": "), numbers the shortest round-trip spelling, as Python writes them.
//
// The output depends only on the parameters and the seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace nat::bench {

struct CollectionShape {
  int groups = 8;       // inner lists (one GRPO group each)
  int generations = 8;  // trajectories per group
  int turns = 4;        // assistant turns per trajectory
  int tokens = 64;      // logprob tokens per assistant turn
  uint64_t seed = 1;
};

// The collection with exactly shape.groups groups.
std::string generate_collection(const CollectionShape &shape);

// A collection of at least `target_bytes` bytes: groups of the given shape
// (its `groups` is ignored) are added until the size is reached. The group
// count used is returned in *groups_out when not null.
std::string generate_collection_of_size(const CollectionShape &shape, size_t target_bytes, int *groups_out);

}  // namespace nat::bench
