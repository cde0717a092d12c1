// `nat-trainer resubmit --list`: a spool listing as a table or as JSON.
#pragma once

#include <ostream>
#include <string>

#include "command_line/spool_listing.h"

namespace nat::host {

// The listing as the JSON document of `--list --json`: spool_dir, origin,
// exists, spooling, then "files" (complete) and "incomplete", each file with
// path, size, modified (local time, ISO 8601), modified_unix and, when its
// name is the spool's own, run, submitted_unix_ms, writer_pid and
// writer_running.
void print_spool_json(std::ostream &out, const SpoolListing &listing);

// The listing for a person: the directory and why, a table of the complete
// files (time, size, run, writer process, path), how to resubmit them
// (`resubmit_command` followed by " FILE..."), then the incomplete files.
void print_spool_table(std::ostream &out, const SpoolListing &listing, const std::string &resubmit_command);

}  // namespace nat::host
