// shard.cpp — shard selection from --shard K/N or a job engine's environment, and the stable case →
// shard assignment (see shard.h).
#include "harness/shard.h"

#include <cstdlib>
#include <fstream>

#include "harness/sweep_file.h"
#include "harness/usage_error.h"

namespace spindle {
namespace {

// parse_count: a decimal integer lo..hi, or UsageError "<what> '<text>': <expectation>".
int parse_int(const std::string& text, const std::string& what, long lo, long hi) {
  const std::string expectation = "expected an integer " + std::to_string(lo) + ".." + std::to_string(hi);
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(what + "='" + text + "': " + expectation);
  const long v = std::stol(text);
  if (v < lo || v > hi) throw UsageError(what + "='" + text + "': " + expectation);
  return int(v);
}

ShardSpec checked(int index0, int count, const std::string& index_text, const std::string& source,
                  const std::string& source_name) {
  if (index0 >= count)
    throw UsageError(index_text + " is not below the shard count " + std::to_string(count) + " (from " + source +
                     "); a 0-based index runs 0.." + std::to_string(count - 1));
  return ShardSpec{index0 + 1, count, source, source_name};
}

ShardSpec from_flag(const std::string& flag) {
  const auto slash = flag.find('/');
  if (slash == std::string::npos)
    throw UsageError("--shard '" + flag + "': expected K/N, shard K (1-based) of N, e.g. --shard 2/3");
  const int count = parse_int(flag.substr(slash + 1), "--shard " + flag + ": N", 1, kMaxShards);
  const int index = parse_int(flag.substr(0, slash), "--shard " + flag + ": K", 1, kMaxShards);
  if (index > count)
    throw UsageError("--shard '" + flag + "': K must be 1.." + std::to_string(count) + " (shards are 1-based)");
  return ShardSpec{index, count, "--shard " + flag, "--shard"};
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
}

std::optional<ShardSpec> resolve_shard(const std::string& flag, int count_flag, const EnvLookup& env) {
  if (count_flag < 0 || count_flag > kMaxShards)
    throw UsageError("--shard-count " + std::to_string(count_flag) + ": expected an integer 1.." +
                     std::to_string(kMaxShards));
  if (!flag.empty()) {
    if (count_flag) throw UsageError("--shard-count " + std::to_string(count_flag) + ": not with --shard " + flag +
                                     " (--shard K/N already says the count)");
    return from_flag(flag);
  }
  if (auto k8s = env("JOB_COMPLETION_INDEX")) {
    if (!count_flag)
      throw UsageError("JOB_COMPLETION_INDEX=" + *k8s +
                       " is set (a Kubernetes Indexed Job) but the shard count is not: pass --shard-count N "
                       "(the Job's .spec.completions)");
    const std::string text = "JOB_COMPLETION_INDEX=" + *k8s;
    const int index0 = parse_int(*k8s, "JOB_COMPLETION_INDEX", 0, kMaxShards - 1);
    return checked(index0, count_flag, text, text + ", --shard-count " + std::to_string(count_flag), "kubernetes");
  }
  if (count_flag)
    throw UsageError("--shard-count " + std::to_string(count_flag) +
                     ": only for JOB_COMPLETION_INDEX (Kubernetes), which is not set; use --shard K/N");
  if (auto slurm = env("SLURM_ARRAY_TASK_ID")) {
    auto count_text = env("SLURM_ARRAY_TASK_COUNT");
    if (!count_text) throw UsageError("SLURM_ARRAY_TASK_ID=" + *slurm + " is set but SLURM_ARRAY_TASK_COUNT is not");
    const int count = parse_int(*count_text, "SLURM_ARRAY_TASK_COUNT", 1, kMaxShards);
    const int id = parse_int(*slurm, "SLURM_ARRAY_TASK_ID", 0, 4 * kMaxShards);
    const auto min_text = env("SLURM_ARRAY_TASK_MIN");
    const int min = min_text ? parse_int(*min_text, "SLURM_ARRAY_TASK_MIN", 0, 4 * kMaxShards) : 0;
    if (id < min)
      throw UsageError("SLURM_ARRAY_TASK_ID=" + *slurm + " is below SLURM_ARRAY_TASK_MIN=" + *min_text);
    std::string source = "SLURM_ARRAY_TASK_ID=" + *slurm;
    if (min_text) source += " - SLURM_ARRAY_TASK_MIN=" + *min_text;
    source += ", SLURM_ARRAY_TASK_COUNT=" + *count_text;
    return checked(id - min, count, "SLURM_ARRAY_TASK_ID=" + *slurm + " (with a contiguous --array, step 1)", source,
                   "slurm");
  }
  if (auto bazel = env("TEST_SHARD_INDEX")) {
    auto total_text = env("TEST_TOTAL_SHARDS");
    if (!total_text) throw UsageError("TEST_SHARD_INDEX=" + *bazel + " is set but TEST_TOTAL_SHARDS is not");
    const int count = parse_int(*total_text, "TEST_TOTAL_SHARDS", 1, kMaxShards);
    const int index0 = parse_int(*bazel, "TEST_SHARD_INDEX", 0, kMaxShards - 1);
    return checked(index0, count, "TEST_SHARD_INDEX=" + *bazel,
                   "TEST_SHARD_INDEX=" + *bazel + ", TEST_TOTAL_SHARDS=" + *total_text, "bazel");
  }
  return std::nullopt;
}

int shard_of_case(const std::string& case_id, int count) {
  const std::string hex = sha256_hex(case_id).substr(0, 16);
  const std::uint64_t h = std::stoull(hex, nullptr, 16);
  return int(h % std::uint64_t(count)) + 1;
}

void touch_bazel_shard_status_file(const EnvLookup& env) {
  auto path = env("TEST_SHARD_STATUS_FILE");
  if (!path || path->empty()) return;
  std::ofstream out(*path, std::ios::app);
  if (!out) throw std::runtime_error("TEST_SHARD_STATUS_FILE=" + *path + ": cannot create it");
}

}  // namespace spindle
