// shard.h — one shard of a sweep (`spindle sweep --shard K/N`, or the index and count that a job engine
// puts in the environment): which shard this process runs, and which cases belong to it. A case belongs
// to shard 1 + (the first 64 bits of SHA-256(case id)) mod N, so adding a case moves no other case, and a
// case — all of its repetitions, interleaved or not — is never split across shards.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace spindle {

// ShardSpec: shard `index` (1-based) of `count`; `source` says where the two numbers came from, in words
// fit for a log line ("--shard 2/3", "SLURM_ARRAY_TASK_ID=1 - SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT=3").
struct ShardSpec {
  int index = 1;
  int count = 1;
  std::string source;
  std::string source_name;  // the short name recorded in results: --shard, kubernetes, slurm, bazel
};

inline constexpr int kMaxShards = 10'000;

// EnvLookup: getenv, or a map in tests; returns nullopt for an unset variable.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// resolve_shard: the shard to run. `flag` is --shard's text ("" = not given), `count_flag` --shard-count
// (0 = not given). Without --shard, the environment is read in this order: JOB_COMPLETION_INDEX (Kubernetes
// Indexed Job, 0-based; the count must come from --shard-count), SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT
// (minus SLURM_ARRAY_TASK_MIN when set), TEST_SHARD_INDEX / TEST_TOTAL_SHARDS (Bazel, 0-based). Returns
// nullopt when nothing asks for sharding. Throws UsageError naming the bad value.
std::optional<ShardSpec> resolve_shard(const std::string& flag, int count_flag, const EnvLookup& env);

// shard_of_case: the 1-based shard of `case_id` among `count` shards.
int shard_of_case(const std::string& case_id, int count);

// touch_bazel_shard_status_file: creates $TEST_SHARD_STATUS_FILE when set (Bazel's "this test shards"
// acknowledgement); throws std::runtime_error naming the path when it cannot.
void touch_bazel_shard_status_file(const EnvLookup& env);

}  // namespace spindle
