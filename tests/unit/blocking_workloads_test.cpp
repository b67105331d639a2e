// blocking_workloads_test.cpp — blocking-syscall and hog-latency at small sizes on every in-process runtime
// that can run them: checksums hold, the counters are there and in order (p50 <= p99 <= max). No timed
// assertion anywhere: lateness and gaps are what the runtimes show, and CI machines are loaded. Plus the
// cross-param rule of blocking-syscall (a usage error naming both values), the LCG jump the hog checksum
// relies on, and fault-deadlock's requirements (refused on pool rather than hung).
#include <gtest/gtest.h>

#include "harness/case_spec.h"
#include "harness/registry.h"
#include "harness/usage_error.h"
#include "tests/unit/runtime_list.h"
#include "workloads/blocking_syscall.h"
#include "workloads/fault_injection.h"
#include "workloads/hog_latency.h"

namespace spindle::testing {
namespace {

template <class R>
class BlockingWorkloads : public ::testing::Test {
 protected:
  // run: the workload on R at `params`, or a skip naming the missing capability.
  template <class W>
  std::optional<WorkloadResult> run(const ParamValues& params) {
    const RuntimeInfo* info = find_runtime(std::string(R::name));
    const WorkloadInfo* wl = find_workload(std::string(W::name));
    EXPECT_NE(info, nullptr);
    EXPECT_NE(wl, nullptr);
    if (!info || !wl) return std::nullopt;
    if (std::string why = unsupported_reason(*info, *wl, params); !why.empty()) return std::nullopt;
    R rt(options());
    return W::run(rt, params);
  }
};
using Runtimes = ::testing::Types<ThreadRuntime, PoolRuntime, FiberRuntime, BoostFiberRuntime>;
TYPED_TEST_SUITE(BlockingWorkloads, Runtimes, RuntimeNames);

void expect_ordered(const WorkloadResult& r, const std::string& prefix) {
  const double p50 = r.counters.at(prefix + "_p50_ns"), p99 = r.counters.at(prefix + "_p99_ns"),
               max = r.counters.at(prefix + "_max_ns");
  EXPECT_LE(p50, p99) << prefix;
  EXPECT_LE(p99, max) << prefix;
}

TYPED_TEST(BlockingWorkloads, BlockingSyscallSmall) {
  auto r = this->template run<BlockingSyscall>({{"tasks", 12}, {"blocking", 2}, {"block-us", 200}, {"steps", 20}, {"hold-ms", 50}});
  if (!r) GTEST_SKIP() << TypeParam::name << " cannot run blocking-syscall";
  EXPECT_TRUE(r->checksum_ok) << r->checksum_detail;
  EXPECT_EQ(r->tasks_created, 12u);
  EXPECT_EQ(r->ops, 10u * 20u);
  EXPECT_GT(r->counters.at("steps_per_second"), 0.0);
  EXPECT_GE(r->counters.at("blocking_calls"), 2.0);  // every blocking task makes at least one call
  expect_ordered(*r, "step_gap");
}

TYPED_TEST(BlockingWorkloads, BlockingSyscallWithoutBlockingTasks) {
  auto r = this->template run<BlockingSyscall>({{"tasks", 3}, {"blocking", 0}, {"block-us", 1}, {"steps", 5}, {"hold-ms", 50}});
  if (!r) GTEST_SKIP() << TypeParam::name << " cannot run blocking-syscall";
  EXPECT_TRUE(r->checksum_ok) << r->checksum_detail;
  EXPECT_EQ(r->ops, 15u);
  EXPECT_EQ(r->counters.at("blocking_calls"), 0.0);
}

TYPED_TEST(BlockingWorkloads, HogLatencySmall) {
  auto r = this->template run<HogLatency>({{"hogs", 0}, {"hog-ms", 20}, {"ticks", 5}});
  if (!r) GTEST_SKIP() << TypeParam::name << " cannot run hog-latency";
  EXPECT_TRUE(r->checksum_ok) << r->checksum_detail;
  EXPECT_EQ(r->counters.at("hogs"), 2.0);  // hogs=0: one per worker
  EXPECT_EQ(r->tasks_created, 3u);
  EXPECT_EQ(r->ops, 5u);
  EXPECT_GT(r->counters.at("hog_spins"), 0.0);
  expect_ordered(*r, "lateness");
}

TEST(BlockingWorkloadChecks, LcgJumpMatchesTheSteps) {
  for (std::uint64_t n : {0u, 1u, 2u, 3u, 1023u, 1024u, 100'000u}) EXPECT_EQ(lcg_jump(42, n), lcg_steps(42, n)) << n;
}

TEST(BlockingWorkloadChecks, BlockingMustLeaveOneSteppingTask) {
  try {
    make_case_spec("thread", "blocking-syscall", {"tasks=5", "blocking=5"}, 2, 1, 0, "");
    ADD_FAILURE() << "blocking=tasks accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("blocking=5 must be less than tasks=5"), std::string::npos) << e.what();
  }
  EXPECT_EQ(make_case_spec("thread", "blocking-syscall", {"tasks=5", "blocking=4"}, 2, 1, 0, "").params.at("blocking"), 4);
}

TEST(BlockingWorkloadChecks, PoolRefusesWhatWouldHangIt) {
  const RuntimeInfo* pool = find_runtime("pool");
  ASSERT_NE(pool, nullptr);
  for (const char* name : {"blocking-syscall", "fault-deadlock"}) {
    const WorkloadInfo* wl = find_workload(name, /*include_test_only=*/true);
    ASSERT_NE(wl, nullptr) << name;
    ParamValues p;
    for (const auto& spec : wl->params) p[spec.name] = spec.default_value;
    EXPECT_NE(unsupported_reason(*pool, *wl, p).find("block in channel send/recv"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace spindle::testing
