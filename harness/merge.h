// merge.h — `spindle merge SHARD.json... --out FILE`: joins the results of the shards of one sweep file
// (`spindle sweep --shard K/N`) into one results file, refusing (exit 2, naming the file and the reason)
// shards of different sweep files, a missing or duplicated shard, and a case present twice. Shards from
// machines with different hardware fingerprints stay separate machines: every record names its machine
// and context.machines lists them, so no reader pools them into one median.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spindle {

struct MergeArgs {
  std::vector<std::string> files;
  std::string out;
};

CLI::App* add_merge_subcommand(CLI::App& app, MergeArgs& args);
int run_merge(const MergeArgs& args);

// merge_shard_documents: the merged document of already-read shard documents (`names[i]` names
// `docs[i]` in messages). Throws UsageError for anything above that it refuses.
nlohmann::json merge_shard_documents(const std::vector<nlohmann::json>& docs, const std::vector<std::string>& names);

}  // namespace spindle
