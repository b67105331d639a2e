// sweep.cpp — the `spindle sweep` command: its options, the default sweep file and results path, --filter,
// --dry-run and --resume; the running itself is sweep_runner's, the file format sweep_file's.
#include "harness/sweep.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <regex>

#include "harness/shard.h"
#include "harness/sweep_file.h"
#include "harness/sweep_runner.h"
#include "harness/usage_error.h"

#ifndef SPINDLE_SOURCE_DIR
#define SPINDLE_SOURCE_DIR "."
#endif

namespace spindle {
namespace {

namespace fs = std::filesystem;

// default_sweep_file: harness/sweeps/quick.json of the working directory, else of the source tree.
std::string default_sweep_file() {
  const std::string relative = "harness/sweeps/quick.json";
  if (fs::exists(relative)) return relative;
  return std::string(SPINDLE_SOURCE_DIR) + "/" + relative;
}

// resolve_sweep_file: a path as given; a bare name such as `full` is harness/sweeps/full.json.
std::string resolve_sweep_file(const std::string& given) {
  if (given.empty()) return default_sweep_file();
  if (fs::exists(given) || given.find('/') != std::string::npos || given.ends_with(".json")) return given;
  for (const std::string& dir : {std::string("harness/sweeps/"), std::string(SPINDLE_SOURCE_DIR) + "/harness/sweeps/"})
    if (fs::exists(dir + given + ".json")) return dir + given + ".json";
  return given;
}

// default_results_path: results/<YYYY-MM-DD>-<host>-<sweep>.json, with -2, -3 ... so no run is overwritten.
std::string default_results_path(const std::string& sweep_name) {
  char date[16];
  std::time_t t = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d", std::localtime(&t));
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::string stem = std::string("results/") + date + "-" + host + "-" + sweep_name;
  std::string path = stem + ".json";
  for (int i = 2; fs::exists(path); ++i) path = stem + "-" + std::to_string(i) + ".json";
  return path;
}

std::vector<bool> select_cases(const SweepDefinition& def, const std::string& filter) {
  if (filter.empty()) return std::vector<bool>(def.cases.size(), true);
  std::regex re;
  try {
    re = std::regex(filter, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw UsageError("--filter '" + filter + "': not a valid regular expression (" + e.what() + ")");
  }
  std::vector<bool> selected;
  bool any = false;
  for (const auto& c : def.cases) {
    selected.push_back(std::regex_search(c.id, re));
    any = any || selected.back();
  }
  if (!any)
    throw UsageError("--filter '" + filter + "' matches none of the " + std::to_string(def.cases.size()) + " cases of " +
                     def.file + " (see --dry-run)");
  return selected;
}

std::string seconds_text(double s) {
  char buf[32];
  if (s < 90)
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  else
    std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  return buf;
}

int dry_run(const SweepDefinition& def, const SweepRunOptions& options) {
  std::size_t count = 0, skipped = 0;
  double estimate = 0, bound = 0;
  std::printf("sweep %s (%s, %s): %zu cases", def.name.c_str(), def.file.c_str(), def.hash.c_str(), def.cases.size());
  if (!options.shard.is_null())
    std::printf(", shard %d/%d", options.shard["index"].get<int>(), options.shard["count"].get<int>());
  std::printf("\n");
  for (std::size_t i = 0; i < def.cases.size(); ++i) {
    const SweepCase& c = def.cases[i];
    if (!options.selected[i]) continue;
    const bool done = options.previous.count(c.id) > 0;
    const char* note = done ? "  [in the resumed file]" : "";
    std::printf("  %-72s reps %-3d timeout %-6g ~%s%s\n", c.id.c_str(), c.spec.repetitions, c.timeout_s,
                seconds_text(c.estimate_s).c_str(), note);
    ++count;
    if (done) {
      ++skipped;
      continue;
    }
    estimate += c.estimate_s;
    bound += c.estimate_s > 0 ? c.timeout_s : 0;
  }
  std::printf("%zu cases selected, %zu to run; estimate ~%s (at most %s if every case ran into its timeout)\n", count,
              count - skipped, seconds_text(estimate).c_str(), seconds_text(bound).c_str());
  return 0;
}

}  // namespace

CLI::App* add_sweep_subcommand(CLI::App& app, SweepArgs& args) {
  auto* s = app.add_subcommand("sweep", "run a sweep file, each case in its own process (schema: harness/sweeps/README.md)");
  s->add_option("file", args.file, "sweep file, or the name of one in harness/sweeps (default quick)");
  s->add_option("--out", args.out, "results file (default results/<date>-<host>-<sweep>.json; with --resume: that file)");
  s->add_option("--resume", args.resume, "a results file of the same sweep file: run only the cases it lacks, write the union");
  s->add_option("--filter", args.filter, "run only the cases whose case id matches this regular expression");
  s->add_flag("--dry-run", args.dry_run, "list the cases and a time estimate; run nothing");
  s->add_flag("--interleave", args.interleave,
              "one repetition per child process, round-robin over all cases, so a drift of the machine is shared");
  s->add_option("--shard", args.shard,
                "run shard K of N (1-based): the cases whose SHA-256(case id) mod N is K-1; default from "
                "JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID/COUNT or TEST_SHARD_INDEX/TEST_TOTAL_SHARDS");
  s->add_option("--shard-count", args.shard_count, "the shard count N when the index is JOB_COMPLETION_INDEX (Kubernetes)");
  return s;
}

int run_sweep(const SweepArgs& args) {
  const std::string file = resolve_sweep_file(args.file);
  SweepDefinition def = load_sweep_file(file);
  SweepRunOptions options;
  options.selected = select_cases(def, args.filter);
  options.interleave = args.interleave;
  const EnvLookup env = process_environment();
  if (std::optional<ShardSpec> shard = resolve_shard(args.shard, args.shard_count, env)) {
    touch_bazel_shard_status_file(env);
    std::size_t in_shard = 0, selected = 0;
    for (std::size_t i = 0; i < def.cases.size(); ++i) {
      selected += options.selected[i];
      options.selected[i] = options.selected[i] && shard_of_case(def.cases[i].id, shard->count) == shard->index;
      in_shard += options.selected[i];
    }
    std::fprintf(stderr, "spindle: shard %d/%d from %s: %zu of %zu cases\n", shard->index, shard->count,
                 shard->source.c_str(), in_shard, selected);
    options.shard = {{"index", shard->index},
                     {"count", shard->count},
                     {"source", shard->source_name},
                     {"source_detail", shard->source},
                     {"assignment", "1 + sha256(case_id)[0:8 bytes] mod count"},
                     {"cases", in_shard}};
  }
  if (!args.resume.empty()) {
    options.previous = read_previous_results(args.resume, def);
    options.resumed_from = args.resume;
    if (!options.shard.is_null())  // a shard's file holds its own cases only, whatever the resumed file had
      std::erase_if(options.previous, [&](const auto& entry) {
        return shard_of_case(entry.first, options.shard["count"].get<int>()) != options.shard["index"].get<int>();
      });
  }
  if (args.dry_run) return dry_run(def, options);
  options.out = !args.out.empty() ? args.out : !args.resume.empty() ? args.resume : default_results_path(def.name);
  return run_sweep_cases(def, options);
}

}  // namespace spindle
