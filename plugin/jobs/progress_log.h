// NAT's log_progress files, shared by every adapter: the timestamp NAT
// writes and the append of one whole line.
#pragma once

#include <filesystem>
#include <string>

namespace nat {

// datetime.now().isoformat(): local time with microseconds.
std::string iso_now();

// Appends `line` to `file` (created when missing) with one write, so that
// lines appended at the same time stay whole. Throws Error(Unavailable).
void append_line(const std::filesystem::path &file, const std::string &line);

}  // namespace nat
