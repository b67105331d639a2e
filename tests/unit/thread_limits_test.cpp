// thread_limits_test.cpp — thread counts beyond the machine's limits are refused with the limit named.
#include <gtest/gtest.h>

#include "harness/case_runner.h"
#include "harness/case_spec.h"
#include "runtimes/os/thread_limits.h"
#include "runtimes/thread/thread_runtime.h"

namespace spindle {
namespace {

TEST(ThreadLimits, ReadsTheKernelLimits) {
  os::ThreadLimits l = os::thread_limits();
  EXPECT_GT(l.max_map_count, 0u);
  EXPECT_GT(l.threads_max, 0u);
  EXPECT_GT(l.max_threads, 0u);
  EXPECT_FALSE(l.binding.empty());
}

TEST(ThreadLimits, TooManyThreadsAreRefusedNamingTheLimit) {
  os::ThreadLimits l = os::thread_limits();
  std::string why = os::thread_limit_reason(l.max_threads + 1);
  EXPECT_NE(why.find("needs " + std::to_string(l.max_threads + 1) + " OS threads"), std::string::npos) << why;
  EXPECT_NE(why.find(l.binding), std::string::npos) << why;
  EXPECT_EQ(os::thread_limit_reason(10), "");
}

TEST(ThreadLimits, CaseOverTheLimitIsRecordedAsLimitWithoutRunning) {
  CaseSpec spec = make_case_spec("thread", "memory-per-task", {"tasks=10000000"}, 0, 1, 0, "");
  CaseReport r = refusal(spec);
  EXPECT_EQ(r.status, "limit");
  EXPECT_NE(r.reason.find("OS threads alive at once"), std::string::npos) << r.reason;
}

TEST(ThreadLimits, MissingCapabilityIsUnsupportedWithAReason) {
  CaseReport r = refusal(make_case_spec("pool", "ping-pong", {}, 2, 1, 0, ""));
  EXPECT_EQ(r.status, "unsupported");
  EXPECT_NE(r.reason.find("block in channel send/recv"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace spindle

namespace spindle {
namespace {

TEST(ThreadLimits, ThreadRuntimeLeavesNoThreadBehind) {
  const std::uint64_t before = os::live_threads();
  ASSERT_GT(before, 0u);
  {
    ThreadRuntime rt(RuntimeOptions{});
    rt.run([&] {
      for (int i = 0; i < 50; ++i) rt.spawn([] {});
    });
  }
  EXPECT_LE(os::live_threads(), before);
}

}  // namespace
}  // namespace spindle
