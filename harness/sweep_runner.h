// sweep_runner.h — runs the cases of a sweep, each in its own child `spindle run` with a timeout (a crash,
// hang or failed checksum costs only that case), rewrites the results file atomically after every case,
// shows progress, resumes from a previous results file and can interleave repetitions across cases.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/sweep_file.h"

namespace spindle {

struct SweepRunOptions {
  std::string out;                    // the results file, rewritten after every case
  std::vector<bool> selected;         // per case of the definition: run it (--filter)
  bool interleave = false;            // one repetition per child, round-robin over the cases
  std::string resumed_from;           // for the context: the --resume file, if any
  nlohmann::json shard;               // for the context: {index, count, source, ...}; null = not sharded
  // previous: records of cases already done (--resume), by case id; those cases are not run again.
  std::map<std::string, std::vector<nlohmann::json>> previous;
};

// run_sweep_cases: runs every selected case the previous results lack. Returns the exit code: 0 when no
// case (new or previous) failed, crashed or timed out, 1 when one did, 128+signal when interrupted
// by SIGINT/SIGTERM (the results file then holds every case finished before).
int run_sweep_cases(const SweepDefinition& def, const SweepRunOptions& options);

// run_case_in_child: `spindle run` of one case with `repetitions` repetitions in a child process group,
// killed after the case's timeout. Always returns at least one record, each with a `status`; records that
// are not ok carry `stderr_tail`, crashed ones `signal` and `signal_name`.
std::vector<nlohmann::json> run_case_in_child(const SweepCase& c, int repetitions);

// aggregate_records: mean, median, stddev and cv records of `iterations` (one case, all ok), computed as
// Google Benchmark computes them (sample stddev, cv = stddev / mean), for real_time, cpu_time and counters.
std::vector<nlohmann::json> aggregate_records(const std::vector<nlohmann::json>& iterations);

// read_previous_results: the complete cases of a results file written by this same sweep definition
// (same context.sweep.hash), by case id. A case is complete when it has a record that is not ok, or as many
// ok iteration records as its repetitions. Throws UsageError for another sweep or an unreadable file.
std::map<std::string, std::vector<nlohmann::json>> read_previous_results(const std::string& path,
                                                                         const SweepDefinition& def);

// case_is_complete: the rule above for one case's records.
bool case_is_complete(const std::vector<nlohmann::json>& records, int repetitions);

}  // namespace spindle
