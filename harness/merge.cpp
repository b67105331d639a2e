// merge.cpp — checks and joins shard results files (see merge.h).
#include "harness/merge.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "harness/json_file.h"
#include "harness/machine.h"
#include "harness/shard.h"
#include "harness/sweep_file.h"
#include "harness/usage_error.h"

namespace spindle {
namespace {

using nlohmann::json;

json read_document(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(path + ": cannot read it");
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    throw UsageError(path + ": not valid JSON (" + e.what() + ")");
  }
}

// Shard: what one file says about itself.
struct Shard {
  std::string file;
  const json* doc;
  json machine;
  int index, count;
};

std::string shard_text(int index, int count) { return std::to_string(index) + "/" + std::to_string(count); }

Shard describe(const json& doc, const std::string& file) {
  const bool ok = doc.is_object() && doc.contains("context") && doc["context"].is_object() &&
                  doc.contains("benchmarks") && doc["benchmarks"].is_array();
  if (!ok) throw UsageError(file + ": not Spindle results (no context and benchmarks)");
  const json& context = doc["context"];
  const json sweep = context.value("sweep", json::object());
  if (!sweep.is_object() || !sweep.contains("hash")) throw UsageError(file + ": not the results of a sweep (no context.sweep.hash)");
  const json shard = sweep.value("shard", json());
  if (!shard.is_object() || !shard.contains("index") || !shard.contains("count") || !shard["index"].is_number_integer() ||
      !shard["count"].is_number_integer())
    throw UsageError(file + ": not a shard (no context.sweep.shard; run `spindle sweep --shard K/N`)");
  json machine = context.contains("machine") && context["machine"].is_object() ? context["machine"] : machine_identity(context);
  return Shard{file, &doc, machine, shard["index"].get<int>(), shard["count"].get<int>()};
}

std::string machine_text(const json& machine) {
  return machine.value("name", std::string("?")) + " (fingerprint " + machine.value("fingerprint", std::string("?")) + ")";
}

}  // namespace

json merge_shard_documents(const std::vector<json>& docs, const std::vector<std::string>& names) {
  if (docs.empty()) throw UsageError("merge: no shard files given");
  std::vector<Shard> shards;
  for (std::size_t i = 0; i < docs.size(); ++i) shards.push_back(describe(docs[i], names[i]));

  const json& first_sweep = (*shards[0].doc)["context"]["sweep"];
  for (const Shard& s : shards) {
    const json& sweep = (*s.doc)["context"]["sweep"];
    if (sweep["hash"] != first_sweep["hash"])
      throw UsageError(s.file + ": a shard of sweep " + sweep.value("name", std::string("?")) + " (" +
                       sweep["hash"].get<std::string>() + "), not of " + shards[0].file + "'s sweep " +
                       first_sweep.value("name", std::string("?")) + " (" + first_sweep["hash"].get<std::string>() +
                       "): shards of different sweep files cannot be merged");
  }

  // Machines, in the order they first appear; each must have every shard 1..N exactly once.
  std::vector<std::string> fingerprints;
  std::map<std::string, std::vector<const Shard*>> by_machine;
  for (const Shard& s : shards) {
    const std::string fp = s.machine.value("fingerprint", std::string());
    if (!by_machine.count(fp)) fingerprints.push_back(fp);
    by_machine[fp].push_back(&s);
  }
  std::map<std::string, std::string> names_by_fp;  // a machine's name, unique among the merged machines
  std::map<std::string, int> name_uses;
  for (const auto& fp : fingerprints) ++name_uses[by_machine[fp].front()->machine.value("name", std::string("machine"))];
  for (const auto& fp : fingerprints) {
    const std::string name = by_machine[fp].front()->machine.value("name", std::string("machine"));
    names_by_fp[fp] = name_uses[name] > 1 ? name + "-" + fp.substr(0, 8) : name;
  }

  json merged_from = json::array(), machines = json::array(), records = json::array();
  std::size_t cases_recorded = 0;
  for (const auto& fp : fingerprints) {
    const auto& group = by_machine[fp];
    const Shard& lead = *group.front();
    std::map<int, const Shard*> by_index;
    for (const Shard* s : group) {
      if (s->count != lead.count)
        throw UsageError(s->file + ": shard " + shard_text(s->index, s->count) + ", but " + lead.file + " of the same machine " +
                         machine_text(s->machine) + " is shard " + shard_text(lead.index, lead.count) +
                         ": shard counts differ");
      if (auto [it, fresh] = by_index.emplace(s->index, s); !fresh)
        throw UsageError(s->file + ": shard " + shard_text(s->index, s->count) + " of machine " + machine_text(s->machine) +
                         " is duplicated: " + it->second->file + " is that shard too");
    }
    for (int k = 1; k <= lead.count; ++k)
      if (!by_index.count(k)) {
        std::string given;
        for (const auto& [index, s] : by_index) given += (given.empty() ? "" : ", ") + shard_text(index, s->count) + " " + s->file;
        throw UsageError("shard " + shard_text(k, lead.count) + " of machine " + machine_text(lead.machine) +
                         " is missing (given: " + given + ")");
      }
    std::map<std::string, std::string> file_of_case;
    const std::string name = names_by_fp[fp];
    for (const auto& [index, s] : by_index) {
      std::map<std::string, bool> cases_here;
      for (const json& r : (*s->doc)["benchmarks"]) {
        const std::string id = r.is_object() ? r.value("case_id", std::string()) : std::string();
        if (id.empty()) throw UsageError(s->file + ": a record without a case_id: " + r.dump().substr(0, 80));
        if (!cases_here.count(id)) {
          if (auto [it, fresh] = file_of_case.emplace(id, s->file); !fresh)
            throw UsageError(s->file + ": case " + id + " is also in " + it->second +
                             " (a case belongs to exactly one shard)");
          if (const int home = shard_of_case(id, s->count); home != index)
            throw UsageError(s->file + ": case " + id + " belongs to shard " + shard_text(home, s->count) +
                             ", not to shard " + shard_text(index, s->count));
          cases_here[id] = true;
        }
        json record = r;
        record["machine"] = name;
        record["machine_fingerprint"] = fp;
        records.push_back(std::move(record));
      }
      cases_recorded += (*s->doc)["context"]["sweep"].value("cases_recorded", std::size_t(0));
      merged_from.push_back({{"file", s->file},
                             {"shard", shard_text(index, s->count)},
                             {"machine", name},
                             {"cases", cases_here.size()}});
    }
    const json& context = (*lead.doc)["context"];
    json machine = lead.machine;
    machine["name"] = name;
    machine["host_name"] = context.value("host_name", std::string());
    machine["env"] = context.value("env", json::object());
    machine["date"] = context.value("date", std::string());
    machines.push_back(std::move(machine));
  }

  json doc;
  doc["context"] = (*shards[0].doc)["context"];
  doc["context"]["sweep"].erase("shard");
  doc["context"]["sweep"]["merged_from"] = merged_from;
  doc["context"]["sweep"]["cases_recorded"] = cases_recorded;
  doc["context"]["machine"] = machines[0];
  doc["context"]["machines"] = machines;
  doc["benchmarks"] = std::move(records);
  return doc;
}

CLI::App* add_merge_subcommand(CLI::App& app, MergeArgs& args) {
  auto* m = app.add_subcommand("merge", "join the shard results of one sweep (spindle sweep --shard K/N) into one file");
  m->add_option("shards", args.files, "the shards' results files")->required();
  m->add_option("--out", args.out, "the merged results file")->required();
  return m;
}

// in_sweep_order: the records ordered as an unsharded run of the sweep file writes them (its case order),
// when that file is still where the shards read it and unchanged (same hash); otherwise as merged.
void in_sweep_order(json& merged) {
  const json& sweep = merged["context"]["sweep"];
  SweepDefinition def;
  try {
    def = load_sweep_file(sweep.value("file", std::string()));
  } catch (const std::exception&) {
    return;
  }
  if (def.hash != sweep.value("hash", std::string())) return;
  std::map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < def.cases.size(); ++i) position.emplace(def.cases[i].id, i);
  std::map<std::string, std::size_t> machine_rank;
  for (const auto& m : merged["context"]["machines"]) machine_rank.emplace(m.value("name", std::string()), machine_rank.size());
  auto key = [&](const json& r) {  // (machine in merge order, case in sweep order)
    auto it = position.find(r.value("case_id", std::string()));
    return std::make_pair(machine_rank[r.value("machine", std::string())],
                          it == position.end() ? def.cases.size() : it->second);
  };
  std::stable_sort(merged["benchmarks"].begin(), merged["benchmarks"].end(),
                   [&](const json& a, const json& b) { return key(a) < key(b); });
}

int run_merge(const MergeArgs& args) {
  std::vector<json> docs;
  for (const auto& f : args.files) docs.push_back(read_document(f));
  json merged = merge_shard_documents(docs, args.files);
  in_sweep_order(merged);
  write_json_atomically(args.out, merged);
  const auto& sweep = merged["context"]["sweep"];
  std::string machines;
  for (const auto& m : merged["context"]["machines"])
    machines += (machines.empty() ? "" : ", ") + machine_text(m);
  std::fprintf(stderr, "spindle: merged %zu shards of sweep %s on %zu machine(s): %s; %zu records -> %s\n",
               args.files.size(), sweep.value("name", std::string("?")).c_str(), merged["context"]["machines"].size(),
               machines.c_str(), merged["benchmarks"].size(), args.out.c_str());
  return 0;
}

}  // namespace spindle
