// stress_test.cpp — stress tests of the fiber runtime (ctest label `fiber-stress`): 1 to 8 workers and
// 100,000+ fibers doing random yields, channel traffic and sleeps checked by checksums; skynet; a million
// parked fibers; repeated start/stop under load; stack overflow detection in a child process.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <vector>

#include "runtimes/fiber/channel.h"
#include "runtimes/fiber/fiber_runtime.h"
#include "runtimes/fiber/scheduler.h"
#include "runtimes/fiber/test_policy.h"
#include "runtimes/fiber/test_scale.h"
#include "runtimes/fiber/wait_group.h"

#if defined(SPINDLE_TSAN)
#define SPINDLE_TEST_UNDER_TSAN 1
#else
#define SPINDLE_TEST_UNDER_TSAN 0
#endif
#if defined(SPINDLE_ASAN)
#define SPINDLE_TEST_UNDER_ASAN 1
#else
#define SPINDLE_TEST_UNDER_ASAN 0
#endif

namespace spindle::fiber {
namespace {

using testing::scaled;

class StressPolicy : public ::testing::TestWithParam<StackPolicy> {};
class StressDeathTestPolicy : public ::testing::TestWithParam<StackPolicy> {};

class StressWorkers : public ::testing::TestWithParam<std::tuple<StackPolicy, int>> {
 protected:
  StackPolicy policy() const { return std::get<0>(GetParam()); }
  int workers() const { return std::get<1>(GetParam()); }
};

// Fibers in groups of four pass tokens around a ring of unbuffered channels, yielding at random and
// sometimes sleeping; each fiber adds what it received. The checksum is the sum of every token.
TEST_P(StressWorkers, RandomYieldsChannelTrafficAndSleepsKeepChecksums) {
  const int workers = this->workers();
  Scheduler s(testing::config(policy(), workers));
  const std::size_t fibers = testing::live_fibers(100'000);
  const std::size_t group = 4, rounds = 3;
  const std::size_t groups = fibers / group;
  std::atomic<std::uint64_t> checksum{0};
  std::atomic<std::uint64_t> finished{0};
  s.run([&] {
    std::vector<std::unique_ptr<Channel<std::uint64_t>>> links;
    links.reserve(fibers);
    for (std::size_t i = 0; i < fibers; ++i) links.push_back(std::make_unique<Channel<std::uint64_t>>(i % 3 == 0 ? 0 : 1));
    WaitGroup wg;
    wg.add(static_cast<std::int64_t>(groups * group));
    for (std::size_t g = 0; g < groups; ++g) {
      for (std::size_t m = 0; m < group; ++m) {
        std::size_t id = g * group + m;
        s.spawn([&, g, m, id] {
          std::minstd_rand rng(static_cast<unsigned>(id * 7919 + 1));
          Channel<std::uint64_t>& in = *links[id];
          Channel<std::uint64_t>& out = *links[g * group + (m + 1) % group];
          std::uint64_t local = 0;
          for (std::size_t r = 0; r < rounds; ++r) {
            if (rng() % 4 == 0) Scheduler::yield();
            if (m == 0) out.send(id + r);  // the group leader injects a token per round
            if (rng() % 1024 == 0) Scheduler::sleep_for(std::chrono::microseconds(rng() % 200));
            std::uint64_t token = *in.recv();
            local += token;
            if (m != 0) out.send(token);  // pass it on; it comes back to the leader
            if (rng() % 4 == 0) Scheduler::yield();
          }
          checksum.fetch_add(local, std::memory_order_relaxed);
          finished.fetch_add(1, std::memory_order_relaxed);
          wg.done();
        });
      }
    }
    wg.wait();
  });
  // Each round's token (leader id + r) travels the whole ring and back: every member receives it once.
  std::uint64_t expected = 0;
  for (std::size_t g = 0; g < groups; ++g)
    for (std::size_t r = 0; r < rounds; ++r) expected += group * (g * group + r);
  EXPECT_EQ(finished.load(), groups * group);
  EXPECT_EQ(checksum.load(), expected);
}

// skynet: a 10-ary tree; each parent sums its children's results received on a channel of capacity 10.
// The channel is on the heap: under `copy` a parked parent's stack is not at its address (README).
std::int64_t skynet(Scheduler& s, std::int64_t num, std::int64_t size) {
  if (size == 1) return num;
  auto results = std::make_unique<Channel<std::int64_t>>(10);
  const std::int64_t child = size / 10;
  for (int i = 0; i < 10; ++i)
    s.spawn([&s, r = results.get(), num, child, i] { r->send(skynet(s, num + i * child, child)); });
  std::int64_t sum = 0;
  for (int i = 0; i < 10; ++i) sum += *results->recv();
  return sum;
}

TEST_P(StressWorkers, SkynetSumsAHundredThousandLeaves) {
  Scheduler s(testing::config(policy(), workers()));
  const std::int64_t leaves = testing::kTestScale == 1 ? 100'000 : 10'000;
  std::int64_t sum = 0;
  s.run([&] { sum = skynet(s, 0, leaves); });
  EXPECT_EQ(sum, leaves * (leaves - 1) / 2);
}

INSTANTIATE_TEST_SUITE_P(Workers, StressWorkers, ::testing::Combine(testing::kPolicies, ::testing::Values(1, 2, 3, 8)),
                         testing::PolicyWorkersName());

long resident_bytes() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<long>(page_size());
}

// memory-per-task's shape: every fiber signals, then parks in recv on one shared channel until it closes.
TEST_P(StressPolicy, AMillionParkedFibersFitDefaultLimits) {
  RuntimeOptions options;
  options.stack_policy = stack_policy_name(GetParam());
  FiberRuntime rt(options);
  const std::size_t n = testing::live_fibers(1'000'000);
  std::atomic<std::uint64_t> woke{0};
  long grown = 0;
  rt.run([&] {
    FiberRuntime::Channel<std::int64_t> gate(0);
    FiberRuntime::WaitGroup parked;
    parked.add(static_cast<std::int64_t>(n));
    long before = resident_bytes();
    for (std::size_t i = 0; i < n; ++i)
      rt.spawn([&] {
        parked.done();
        if (!gate.recv()) woke.fetch_add(1, std::memory_order_relaxed);
      });
    parked.wait();
    FiberRuntime::sleep_for(std::chrono::milliseconds(1));
    grown = resident_bytes() - before;
    gate.close();
  });
  EXPECT_EQ(woke.load(), n);
  // Lazily committed stacks: far below one full 64 KiB stack per parked fiber. (TSan's per-fiber state and
  // shadow memory dwarf the stack, so the figure means nothing there.)
  // Copy: control block plus a few hundred bytes of evicted stack; issue 8's goal is 1 KiB (ASan's
  // redzones and quarantine inflate it, so there only the pooled bound applies). Pooled: a million fibers
  // are far beyond max_pooled_stacks, so most run on run stacks and park evicted: below Go's 2 KiB stack
  // plus its g (issue 15); fewer (scaled-down builds) keep a stack page each.
  const bool many = n >= 16 * fiber::kDefaultMaxPooledStacks;
  const long bound = (GetParam() == StackPolicy::copy || many) && !SPINDLE_TEST_UNDER_ASAN
                         ? (GetParam() == StackPolicy::copy ? 1024 : 2048)
                         : 16 * 1024;
  if (!SPINDLE_TEST_UNDER_TSAN) {
    EXPECT_LT(grown / static_cast<long>(n), bound) << grown / static_cast<long>(n) << " bytes per parked fiber";
  }
  std::printf("[ info ] %s: %zu parked fibers: %ld bytes resident per fiber, %zu guarded stacks, %llu started on run stacks\n",
              stack_policy_name(GetParam()), n, grown / static_cast<long>(n), rt.scheduler().stacks().guarded_stacks(),
              static_cast<unsigned long long>(rt.scheduler().stats().run_stack_starts));
}

TEST_P(StressPolicy, RepeatedStartStopUnderLoad) {
  for (int round = 0; round < static_cast<int>(scaled(40)); ++round) {
    Scheduler s(testing::config(GetParam(), 1 + round % 8));
    std::atomic<int> n{0};
    s.run([&] {
      Channel<int> ch(round % 2);
      for (int i = 0; i < 500; ++i) s.spawn([&] { Scheduler::yield(); ch.send(1); });
      for (int i = 0; i < 500; ++i) n += *ch.recv();
    });
    ASSERT_EQ(n.load(), 500) << "round " << round;
  }
}

// A fiber that recurses without bound must end the process with the overflow message.
[[gnu::noinline]] int recurse(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  return depth > 1'000'000'000 ? frame[0] : recurse(depth + 1) + frame[0];
}

#if !defined(SPINDLE_ASAN) && !defined(SPINDLE_TSAN)
// Pooled: the fiber's own stack's guard page. Copy: the guard page under the worker's shared stack (the
// overflowing fiber is spawned: run()'s root has a private stack).
TEST_P(StressDeathTestPolicy, OverflowIntoAGuardPageIsReportedWithTheStackSize) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Scheduler s(testing::config(GetParam(), 1, 32 * 1024));
        s.run([&s] { s.spawn([] { recurse(0); }); });
      },
      GetParam() == StackPolicy::copy ? "stack overflow.*32768-byte stack.*shared run stack.*guard page"
                                      : "stack overflow.*32768-byte stack.*guard page");
}
#endif

TEST_P(StressDeathTestPolicy, OverflowOnACanaryStackIsReportedWithTheStackSize) {
  if (GetParam() == StackPolicy::copy) GTEST_SKIP() << "copy's shared stacks are always guarded: no canary";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // A frame that jumps past the canary lands in the neighbouring stack; the switch-time check catches the
  // fiber's stack pointer or canary before that neighbour runs.
  EXPECT_DEATH(
      {
        Scheduler s(testing::config(GetParam(), 1, 32 * 1024, false));
        s.run([&s] {
          WaitGroup wg;  // the root's stack is the neighbour below the overflowing fiber's
          wg.add(1);
          s.spawn([&wg] {
            std::int64_t big[(32 * 1024 + 4096) / 8];
            std::memset(big, 1, sizeof big);  // the frame runs through the canary into the neighbour
            asm volatile("" ::"r"(big) : "memory");
            Scheduler::yield();
            wg.done();
          });
          wg.wait();
        });
      },
#if defined(SPINDLE_ASAN)
      "stack-buffer-underflow|stack overflow.*32768-byte stack");  // ASan sees the frame first
#else
      "stack overflow.*32768-byte stack");
#endif
}

INSTANTIATE_TEST_SUITE_P(Policies, StressPolicy, testing::kPolicies, testing::PolicyName());
INSTANTIATE_TEST_SUITE_P(Policies, StressDeathTestPolicy, testing::kPolicies, testing::PolicyName());

}  // namespace
}  // namespace spindle::fiber
