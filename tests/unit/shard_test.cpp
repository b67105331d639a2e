// shard_test.cpp — the case -> shard assignment (values cross-checked with Python's hashlib), shard
// selection from --shard and the job engines' variables (a map stands in for the environment), the machine
// fingerprint's text and hash, and merge's refusals, without running a sweep.
#include <gtest/gtest.h>

#include <map>

#include "harness/machine.h"
#include "harness/merge.h"
#include "harness/shard.h"
#include "harness/usage_error.h"

namespace spindle {
namespace {

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

std::string usage_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(Shard, AssignmentIsSha256OfTheCaseIdModN) {
  // 1 + int(sha256(id).hexdigest()[:16], 16) % n, as computed by Python.
  EXPECT_EQ(shard_of_case("spawn-million/pool/tasks:10/workers:1", 3), 3);
  EXPECT_EQ(shard_of_case("skynet/fiber/leaves:10000/workers:2/stack_policy:pooled", 3), 2);
  EXPECT_EQ(shard_of_case("skynet/fiber/leaves:10000/workers:2/stack_policy:pooled", 7), 2);
  EXPECT_EQ(shard_of_case("anything", 1), 1);
}

TEST(Shard, FlagWinsAndEngineVariablesAreReadInOrder) {
  auto none = env_of({});
  EXPECT_FALSE(resolve_shard("", 0, none).has_value());
  auto s = resolve_shard("2/3", 0, env_of({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}));
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->source_name, "--shard");
  s = resolve_shard("", 4, env_of({{"JOB_COMPLETION_INDEX", "3"}, {"TEST_SHARD_INDEX", "0"}, {"TEST_TOTAL_SHARDS", "2"}}));
  EXPECT_EQ(s->index, 4);
  EXPECT_EQ(s->count, 4);
  EXPECT_EQ(s->source_name, "kubernetes");
  s = resolve_shard("", 0, env_of({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "4"}, {"SLURM_ARRAY_TASK_COUNT", "2"}}));
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->source, "SLURM_ARRAY_TASK_ID=5 - SLURM_ARRAY_TASK_MIN=4, SLURM_ARRAY_TASK_COUNT=2");
  s = resolve_shard("", 0, env_of({{"TEST_SHARD_INDEX", "1"}, {"TEST_TOTAL_SHARDS", "2"}}));
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->source_name, "bazel");
}

TEST(Shard, BadValuesAreUsageErrorsNamingThem) {
  auto none = env_of({});
  EXPECT_NE(usage_error_of([&] { resolve_shard("3/2", 0, none); }).find("--shard '3/2'"), std::string::npos);
  EXPECT_NE(usage_error_of([&] { resolve_shard("1/x", 0, none); }).find("N='x'"), std::string::npos);
  EXPECT_NE(usage_error_of([&] { resolve_shard("-1/2", 0, none); }).find("K='-1'"), std::string::npos);
  EXPECT_NE(usage_error_of([&] { resolve_shard("", 0, env_of({{"JOB_COMPLETION_INDEX", "0"}})); }).find("--shard-count"),
            std::string::npos);
  EXPECT_NE(usage_error_of([&] { resolve_shard("", 0, env_of({{"TEST_SHARD_INDEX", "2"}, {"TEST_TOTAL_SHARDS", "2"}})); })
                .find("TEST_SHARD_INDEX=2 is not below the shard count 2"),
            std::string::npos);
}

nlohmann::json shard_document(int index, int count, std::vector<std::string> cases, const std::string& cpu = "X") {
  nlohmann::json doc;
  doc["context"] = {{"host_name", "box"},
                    {"caches", nlohmann::json::array({{{"type", "Data"}, {"level", 1}, {"size", 32768}, {"num_sharing", 1}}})},
                    {"env", {{"cpu_model", cpu}, {"cores", 2}, {"memory_bytes", 24ull << 30}, {"kernel", "Linux 6 x86_64"},
                             {"virtualization", "kvm"}}},
                    {"sweep", {{"name", "s"}, {"hash", "sha256:1"}, {"shard", {{"index", index}, {"count", count}}}}}};
  doc["benchmarks"] = nlohmann::json::array();
  for (const auto& c : cases) doc["benchmarks"].push_back({{"case_id", c}, {"status", "ok"}});
  return doc;
}

TEST(Machine, FingerprintIsTheHashOfTheDocumentedText) {
  const nlohmann::json context = shard_document(1, 1, {})["context"];
  EXPECT_EQ(fingerprint_text(context),
            "cpu_model=X\ncores=2\ncaches=L1 Data 32768/1\nmemory_gib=24\nkernel=Linux 6 x86_64\nvirtualization=kvm\n");
  EXPECT_EQ(machine_identity(context)["fingerprint"], "d1c4dbaa2e43de17");  // Python's hashlib says the same
}

TEST(Merge, RefusesMissingDuplicatedForeignAndDoubledShards) {
  // With 3 shards, these two case ids live in shards 3 and 2.
  const std::string a = "spawn-million/pool/tasks:10/workers:1", b = "skynet/fiber/leaves:10000/workers:2/stack_policy:pooled";
  auto one = shard_document(1, 3, {}), two = shard_document(2, 3, {b}), three = shard_document(3, 3, {a});
  auto merged = merge_shard_documents({one, two, three}, {"1.json", "2.json", "3.json"});
  EXPECT_EQ(merged["benchmarks"].size(), 2u);
  EXPECT_EQ(merged["context"]["machines"].size(), 1u);
  EXPECT_NE(usage_error_of([&] { merge_shard_documents({one, two}, {"1.json", "2.json"}); }).find("shard 3/3 of machine box"),
            std::string::npos);
  EXPECT_NE(usage_error_of([&] { merge_shard_documents({one, two, two, three}, {"1", "2", "2b", "3"}); }).find("2b: shard 2/3"),
            std::string::npos);
  auto foreign = two;
  foreign["context"]["sweep"]["hash"] = "sha256:2";
  EXPECT_NE(usage_error_of([&] { merge_shard_documents({one, foreign, three}, {"1", "f", "3"}); }).find("f: a shard of sweep s"),
            std::string::npos);
  auto doubled = shard_document(2, 3, {b, a});
  EXPECT_NE(usage_error_of([&] { merge_shard_documents({one, doubled, three}, {"1", "d", "3"}); }).find("belongs to shard 3/3"),
            std::string::npos);
  // Another machine's full set of shards: kept apart, every record naming its machine.
  auto others = merge_shard_documents({one, two, three, shard_document(1, 3, {}, "Y"), shard_document(2, 3, {b}, "Y"),
                                       shard_document(3, 3, {a}, "Y")},
                                      {"1", "2", "3", "y1", "y2", "y3"});
  EXPECT_EQ(others["context"]["machines"].size(), 2u);
  EXPECT_NE(others["benchmarks"][0]["machine"], others["benchmarks"][3]["machine"]);
}

}  // namespace
}  // namespace spindle
