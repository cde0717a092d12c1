// NAT trajectories -> ART trajectory groups, streamed.
//
// The converter is the second pass over a collection that plan_collection()
// validated: from the plan's spans it emits each kept trajectory as an ART
// Trajectory, exactly as NAT's ARTTrainerAdapter._construct_trajectory_groups
// builds them, copying content strings and logprobs byte for byte from the
// input; logprobs that contain a line break (insignificant whitespace, which
// would split a JSON Lines record) are minified instead (minify_json).
// Output goes to a ByteSink (base/byte_sink.h) in chunks, so the caller can send it while it is
// being produced.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/byte_sink.h"
#include "nat/collection_plan.h"

namespace nat {

// Copies the valid JSON text `json` to `out` without insignificant
// whitespace (outside strings); everything else, numbers and escapes
// included, byte for byte. Returns the bytes written; `out` needs room for
// json.size() bytes, and nothing beyond is written. On text that is not valid
// JSON the result is unspecified (but stays within those bounds).
size_t minify_json(std::string_view json, char *out);

class TrajectoryConverter {
 public:
  static constexpr size_t kChunkSize = 1 << 20;

  // `input` must be the text `plan` was made from, and outlive the converter.
  TrajectoryConverter(std::string_view input, const CollectionPlan &plan, int max_depth = 128);

  // Writes `open`, the kept groups separated by `separator`, then `close`.
  // A JSON array is ("[", ",", "]"); JSON lines are ("", "\n", "\n").
  // Empty groups and groups with no kept trajectory are left out.
  void write_groups(ByteSink &sink, std::string_view open, std::string_view separator,
                    std::string_view close);

 private:
  std::string_view input_;
  const CollectionPlan &plan_;
  [[maybe_unused]] int max_depth_;  // kept for the API; the plan already checked the depth
};

}  // namespace nat
