// workloads_test.cpp — every workload on every runtime that supports it, at small sizes, with its own
// checksum; and a planted wrong answer must be reported as a failure.
#include "harness/registry.h"
#include "tests/unit/runtime_list.h"
#include "workloads/context_switch_storm.h"
#include "workloads/echo.h"
#include "workloads/idle_connections.h"
#include "workloads/fault_injection.h"
#include "workloads/memory_per_task.h"
#include "workloads/ping_pong.h"
#include "workloads/skynet.h"
#include "workloads/spawn_million.h"

namespace spindle::testing {
namespace {

template <class R>
class Workloads : public ::testing::Test {
 protected:
  template <class W>
  void check(const ParamValues& params, std::uint64_t want_tasks) {
    const RuntimeInfo* info = find_runtime(std::string(R::name));
    const WorkloadInfo* wl = find_workload(std::string(W::name));
    ASSERT_NE(info, nullptr);
    ASSERT_NE(wl, nullptr);
    if (std::string why = unsupported_reason(*info, *wl, params); !why.empty()) GTEST_SKIP() << why;
    R rt(options());
    WorkloadResult r = W::run(rt, params);
    EXPECT_TRUE(r.checksum_ok) << r.checksum_detail;
    EXPECT_EQ(r.tasks_created, want_tasks);
    EXPECT_GT(r.ops, 0u);
  }
};
TYPED_TEST_SUITE(Workloads, AllRuntimes, RuntimeNames);

TYPED_TEST(Workloads, SpawnMillionSmall) { this->template check<SpawnMillion>({{"tasks", 5000}}, 5000); }
TYPED_TEST(Workloads, PingPongSmall) {
  this->template check<PingPong>({{"pairs", 3}, {"round-trips", 2000}}, 6);
}
TYPED_TEST(Workloads, ContextSwitchStormSmall) {
  this->template check<ContextSwitchStorm>({{"tasks", 20}, {"yields", 200}}, 20);
}
TYPED_TEST(Workloads, SkynetSmall) { this->template check<Skynet>({{"leaves", 1000}}, 1111); }
TYPED_TEST(Workloads, EchoSmall) {
  this->template check<Echo>({{"connections", 20}, {"messages", 50}, {"bytes", 100}, {"rate", 0}}, 40);
}
TYPED_TEST(Workloads, EchoOpenLoopSmall) {
  this->template check<Echo>({{"connections", 4}, {"messages", 20}, {"bytes", 10}, {"rate", 2000}}, 8);
}
TYPED_TEST(Workloads, IdleConnectionsSmall) { this->template check<IdleConnections>({{"connections", 50}}, 50); }
TYPED_TEST(Workloads, MemoryPerTaskSmall) { this->template check<MemoryPerTask>({{"tasks", 500}}, 500); }

TEST(WorkloadChecks, PlantedWrongAnswerFailsTheChecksum) {
  ThreadRuntime rt(options());
  WorkloadResult r = FaultWorkload<Fault::checksum>::run(rt, {{"tasks", 1}});
  EXPECT_FALSE(r.checksum_ok);
  EXPECT_NE(r.checksum_detail.find("expected 42, got 41"), std::string::npos) << r.checksum_detail;
}

TEST(WorkloadChecks, SkynetTreeSizes) {
  EXPECT_EQ(Skynet::tree_tasks(1), 1u);
  EXPECT_EQ(Skynet::tree_tasks(1000), 1111u);
  EXPECT_EQ(Skynet::tree_tasks(1'000'000), 1'111'111u);
}

TEST(WorkloadChecks, MemoryPerTaskReportsEveryTaskReached) {
  ThreadRuntime rt(options());
  WorkloadResult r = MemoryPerTask::run(rt, {{"tasks", 200}});
  EXPECT_TRUE(r.checksum_ok) << r.checksum_detail;
  EXPECT_EQ(r.counters.at("tasks_reached"), 200.0);
  EXPECT_GT(r.counters.at("rss_bytes_per_task"), 0.0);  // 200 live threads touch at least some stack
}

}  // namespace
}  // namespace spindle::testing
