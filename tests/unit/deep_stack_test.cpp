// deep_stack_test.cpp — deep-stack at small sizes on thread and boost-fiber (checksum, counters), its
// recursion against the closed form, and the stack limits: a depth beyond a runtime's stack is refused
// with a reason before anything runs.
#include <gtest/gtest.h>

#include "harness/case_runner.h"
#include "harness/case_spec.h"
#include "runtimes/boost_fiber/boost_fiber_runtime.h"
#include "runtimes/fiber/fiber_runtime.h"
#include "runtimes/os/thread_limits.h"
#include "runtimes/pool/pool_runtime.h"
#include "runtimes/thread/thread_runtime.h"
#include "tests/unit/runtime_list.h"
#include "workloads/deep_stack.h"

namespace spindle::testing {
namespace {

const ParamValues kSmall{{"tasks", 50}, {"depth-kib", 16}};

template <class R>
void expect_small_case_passes(RuntimeOptions opts) {
  ASSERT_EQ(R::limit_reason(opts, DeepStack::requirements(kSmall)), "");
  R rt(opts);
  WorkloadResult r = DeepStack::run(rt, kSmall);
  EXPECT_TRUE(r.checksum_ok) << r.checksum_detail;
  EXPECT_EQ(r.tasks_created, 50u);
  EXPECT_EQ(r.ops, 50u);
  for (const char* c : {"deep_ns_per_task", "rss_bytes_per_parked_task_after_deep", "peak_rss_bytes_per_task"})
    EXPECT_TRUE(r.counters.count(c)) << c;
  EXPECT_EQ(r.counters["tasks_reached"], 50.0);
  EXPECT_GT(r.counters["deep_ns_per_task"], 0.0);
  EXPECT_FALSE(r.counters.count("rss_bytes_per_parked_task_after_gc"));  // Go's figure only
}

TEST(DeepStack, SmallCaseOnThread) { expect_small_case_passes<ThreadRuntime>(options()); }

TEST(DeepStack, SmallCaseOnBoostFiber) { expect_small_case_passes<BoostFiberRuntime>(options()); }

// fiber: without --stack-size the stacks fit the case (1 MiB deep runs by default), and a fiber that went
// deep gives the pages below its stack pointer back when it parks: far below the depth per parked task.
TEST(DeepStack, FiberStacksFollowTheCaseAndGiveDeepPagesBack) {
  const ParamValues deep{{"tasks", 200}, {"depth-kib", 1024}};
  for (const char* policy : {"pooled", "copy"}) {
    RuntimeOptions opts = options();
    opts.stack_policy = policy;
    ASSERT_EQ(FiberRuntime::limit_reason(opts, DeepStack::requirements(deep)), "") << policy;
    FiberRuntime rt(FiberRuntime::fit_options(opts, DeepStack::requirements(deep)));
    WorkloadResult r = DeepStack::run(rt, deep);
    EXPECT_TRUE(r.checksum_ok) << policy << ": " << r.checksum_detail;
    // Kept, each task would hold ~1 MiB; given back, about a page and its control block.
    EXPECT_LT(r.counters["rss_bytes_per_parked_task_after_deep"], 64.0 * 1024) << policy;
  }
  RuntimeOptions fixed = options();
  fixed.stack_size = 64 * 1024;  // an explicit --stack-size is kept, so the depth is a limit
  EXPECT_NE(FiberRuntime::limit_reason(fixed, DeepStack::requirements(deep)).find("fiber's pooled stack"),
            std::string::npos);
}

TEST(DeepStack, RecursionMatchesTheClosedForm) {
  namespace d = deep_stack_detail;
  for (std::uint64_t frames : {1u, 2u, 300u})
    EXPECT_EQ(d::descend(frames, 7), d::expected(frames, 7)) << frames;
  EXPECT_NE(d::expected(300, 7), d::expected(299, 7));  // every frame counts
}

TEST(DeepStack, RequirementHasHeadroomOverTheDepth) {
  Requirements req = DeepStack::requirements({{"tasks", 10}, {"depth-kib", 256}});
  EXPECT_EQ(req.stack_bytes, 256u * 1024 + 16u * 1024 + DeepStack::kHeadroomBytes);
  EXPECT_EQ(req.concurrent_tasks, 10u);
}

TEST(DeepStack, DepthBeyondBoostFibersStackIsALimit) {
  RuntimeOptions opts = options();  // default 64 KiB stacks
  std::string why = BoostFiberRuntime::limit_reason(opts, DeepStack::requirements({{"tasks", 10}, {"depth-kib", 256}}));
  EXPECT_NE(why.find("boost-fiber's fixed-size stack"), std::string::npos) << why;
  opts.stack_size = 1 << 20;
  EXPECT_EQ(BoostFiberRuntime::limit_reason(opts, DeepStack::requirements({{"tasks", 10}, {"depth-kib", 256}})), "");
}

TEST(DeepStack, DepthBeyondAThreadStackIsALimit) {
  const std::size_t stack = os::default_thread_stack_bytes();
  ASSERT_GT(stack, 0u);
  const ParamValues too_deep{{"tasks", 10}, {"depth-kib", std::int64_t(stack / 1024)}};
  std::string why = ThreadRuntime::limit_reason(options(), DeepStack::requirements(too_deep));
  EXPECT_NE(why.find("std::thread's default stack"), std::string::npos) << why;
  EXPECT_NE(PoolRuntime::limit_reason(options(), DeepStack::requirements(too_deep)), "");
  EXPECT_EQ(ThreadRuntime::limit_reason(options(), DeepStack::requirements(kSmall)), "");
}

TEST(DeepStack, StacksBeyondMemoryAreALimit) {
  // A million tasks 1 GiB deep would need a PiB resident, stacks big enough or not.
  std::string why = os::stack_limit_reason(1'000'000, std::size_t(1) << 30, std::size_t(1) << 31, "a stack");
  EXPECT_NE(why.find("MemAvailable"), std::string::npos) << why;
  EXPECT_EQ(os::stack_limit_reason(1'000'000, 0, 0, "a stack"), "");
}

TEST(DeepStack, CaseBeyondTheStackIsRecordedAsLimitWithoutRunning) {
  CaseReport r = refusal(make_case_spec("boost-fiber", "deep-stack", {"tasks=10", "depth-kib=256"}, 2, 1, 0, ""));
  EXPECT_EQ(r.status, "limit");
  EXPECT_NE(r.reason.find("KiB of stack"), std::string::npos) << r.reason;
  EXPECT_EQ(refusal(make_case_spec("pool", "deep-stack", {"tasks=10"}, 2, 1, 0, "")).status, "unsupported");
}

}  // namespace
}  // namespace spindle::testing
