// sweep_file.h — the sweep file (schema: harness/sweeps/README.md): reading it, validating every value
// against the registry with an error that names its JSON path (a UsageError, so exit 2 before anything
// runs), and expanding it into the ordered, duplicate-free list of cases. Also the file's SHA-256.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/registry.h"

namespace spindle {

// SweepCase: one case of a sweep, fully validated. `spec.repetitions` is its repetition count.
struct SweepCase {
  CaseSpec spec;
  std::string id;           // case_id(spec)
  double timeout_s = 60;    // for the whole child process (all repetitions)
  double estimate_s = 0;    // a rough guess of the case's wall time, for --dry-run and the first ETA
};

// SweepDefinition: a sweep file, read and expanded.
struct SweepDefinition {
  std::string name;
  std::string file;         // the path as given
  std::string hash;         // "sha256:<hex>" of the file's bytes
  std::vector<SweepCase> cases;
};

// load_sweep_file: reads, validates and expands `path`; throws UsageError naming the path of the bad value
// (`workloads.ping-pong.params.pairs[2]: expected an integer 1..100000, got "four"`).
SweepDefinition load_sweep_file(const std::string& path);

// parse_sweep_text: the same from the file's text (`file` only names it in messages and the result).
SweepDefinition parse_sweep_text(const std::string& text, const std::string& file);

// sha256_hex: the SHA-256 digest of `bytes` as 64 lowercase hex digits (FIPS 180-4).
std::string sha256_hex(std::string_view bytes);

}  // namespace spindle
