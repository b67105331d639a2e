// sweep.h — `spindle sweep`: a grid of cases from a sweep file, each case in its own child process with a
// timeout, results rewritten atomically after every case, progress on the terminal, resume.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace spindle {

struct SweepArgs {
  std::string file;     // empty = harness/sweeps/quick.json
  std::string out;      // empty = results/<date>-<host>-<sweep>.json
  std::string resume;   // a results file of the same sweep: run only what it lacks
  std::string filter;   // regex on case ids
  bool dry_run = false;
  bool interleave = false;
  std::string shard;    // --shard K/N; empty = from the environment, or no sharding (shard.h)
  int shard_count = 0;  // --shard-count N, with JOB_COMPLETION_INDEX
};

CLI::App* add_sweep_subcommand(CLI::App& app, SweepArgs& args);
int run_sweep(const SweepArgs& args);

}  // namespace spindle
