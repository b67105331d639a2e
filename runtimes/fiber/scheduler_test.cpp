// scheduler_test.cpp — unit tests of the Scheduler: run() completion, spawning from fibers and plain
// threads, yield order, sleep_for, exceptions escaping fibers, repeated start/stop, idle CPU, Mutex.
#include "runtimes/fiber/scheduler.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtimes/fiber/fiber_runtime.h"
#include "runtimes/fiber/test_policy.h"
#include "runtimes/fiber/test_scale.h"
#include "runtimes/fiber/wait_group.h"

namespace spindle::fiber {
namespace {

using testing::scaled;

class SchedulerPolicy : public ::testing::TestWithParam<StackPolicy> {};
class MutexPolicy : public ::testing::TestWithParam<StackPolicy> {};
using namespace std::chrono_literals;

class SchedulerWorkers : public ::testing::TestWithParam<std::tuple<StackPolicy, int>> {
 protected:
  StackPolicy policy() const { return std::get<0>(GetParam()); }
  int workers() const { return std::get<1>(GetParam()); }
};

TEST_P(SchedulerWorkers, RunReturnsAfterEveryTransitivelySpawnedTask) {
  Scheduler s(testing::config(policy(), workers()));
  std::atomic<int> leaves{0};
  const int fanout = 20, depth2 = 50;
  s.run([&] {
    for (int i = 0; i < fanout; ++i)
      s.spawn([&] {
        for (int j = 0; j < depth2; ++j) s.spawn([&] { leaves.fetch_add(1, std::memory_order_relaxed); });
      });
  });
  EXPECT_EQ(leaves.load(), fanout * depth2);
}

TEST_P(SchedulerWorkers, WaitGroupCountsTasks) {
  Scheduler s(testing::config(policy(), workers()));
  const int n = static_cast<int>(scaled(20000));
  std::atomic<int> ran{0};
  int after_wait = -1;
  s.run([&] {
    WaitGroup wg;
    wg.add(n);
    for (int i = 0; i < n; ++i)
      s.spawn([&] {
        ran.fetch_add(1, std::memory_order_relaxed);
        wg.done();
      });
    wg.wait();
    after_wait = ran.load();
  });
  EXPECT_EQ(after_wait, n);
}

INSTANTIATE_TEST_SUITE_P(Workers, SchedulerWorkers, ::testing::Combine(testing::kPolicies, ::testing::Values(1, 2, 4)),
                         testing::PolicyWorkersName());

TEST_P(SchedulerPolicy, WorkersDefaultToOnlineCores) {
  Scheduler s(testing::config(GetParam(), 0));
  EXPECT_EQ(s.workers(), online_cores());
}

TEST_P(SchedulerPolicy, YieldAlternatesFibersOnOneWorker) {
  Scheduler s(testing::config(GetParam(), 1));
  std::string order;
  s.run([&] {
    WaitGroup wg;
    wg.add(2);
    for (char c : {'a', 'b'})
      s.spawn([&, c] {
        for (int i = 0; i < 3; ++i) {
          order.push_back(c);
          Scheduler::yield();
        }
        wg.done();
      });
    wg.wait();
  });
  // The second spawn took runnext, so 'b' runs first; then they alternate.
  EXPECT_EQ(order, "bababa");
}

TEST_P(SchedulerPolicy, YieldWithNothingElseRunnableReturns) {
  Scheduler s(testing::config(GetParam(), 1));
  int yields = 0;
  s.run([&] {
    for (int i = 0; i < 1000; ++i) {
      Scheduler::yield();
      ++yields;
    }
  });
  EXPECT_EQ(yields, 1000);
}

TEST_P(SchedulerPolicy, SleepForParksForAtLeastTheDuration) {
  Scheduler s(testing::config(GetParam(), 2));
  std::chrono::steady_clock::duration slept{};
  std::atomic<int> others{0};
  s.run([&] {
    // Other fibers keep running while this one sleeps.
    for (int i = 0; i < 100; ++i) s.spawn([&] { others.fetch_add(1); });
    auto t0 = std::chrono::steady_clock::now();
    Scheduler::sleep_for(20ms);
    slept = std::chrono::steady_clock::now() - t0;
  });
  EXPECT_GE(slept, 20ms);
  EXPECT_LT(slept, 2s);
  EXPECT_EQ(others.load(), 100);
}

TEST_P(SchedulerPolicy, ManySleepersWakeInDeadlineOrderOnOneWorker) {
  Scheduler s(testing::config(GetParam(), 1));
  std::vector<int> woke;
  s.run([&] {
    // Deadlines 10 ms apart from one origin, whatever order the sleepers start in.
    const auto origin = std::chrono::steady_clock::now();
    for (int i : {5, 1, 4, 2, 3}) s.spawn([&woke, origin, i] {  // origin by value: the root returns first
      Scheduler::sleep_for(origin + std::chrono::milliseconds(10 * i) - std::chrono::steady_clock::now());
      woke.push_back(i);
    });
  });
  EXPECT_EQ(woke, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST_P(SchedulerPolicy, SpawnFromPlainThreadRunsOnTheScheduler) {
  Scheduler s(testing::config(GetParam(), 2));
  std::atomic<int> ran{0};
  std::atomic<bool> on_fiber{true};
  s.run([&] {
    WaitGroup wg;
    wg.add(100);
    std::thread outsider([&] {
      for (int i = 0; i < 100; ++i)
        s.spawn([&] {
          if (Scheduler::current_fiber() == nullptr) on_fiber = false;
          ran.fetch_add(1);
          wg.done();
        });
    });
    wg.wait();
    outsider.join();
  });
  EXPECT_EQ(ran.load(), 100);
  EXPECT_TRUE(on_fiber.load());
}

TEST_P(SchedulerPolicy, PlainThreadWaitsOnWaitGroupDoneByFibers) {
  Scheduler s(testing::config(GetParam(), 2));
  WaitGroup wg;
  wg.add(50);
  std::atomic<int> ran{0};
  std::thread waiter([&] { wg.wait(); EXPECT_EQ(ran.load(), 50); });
  s.run([&] {
    for (int i = 0; i < 50; ++i) s.spawn([&] { Scheduler::sleep_for(1ms); ran.fetch_add(1); wg.done(); });
  });
  waiter.join();
}

TEST_P(SchedulerPolicy, ExceptionEscapingAFiberIsRethrownFromRunWithoutDeadlock) {
  Scheduler s(testing::config(GetParam(), 2));
  auto start = std::chrono::steady_clock::now();
  try {
    s.run([&] {
      WaitGroup never_done;
      never_done.add(1);
      s.spawn([] { throw std::runtime_error("task 7 failed: boom"); });
      never_done.wait();  // the thrower never calls done(): run() must still return
    });
    FAIL() << "run() did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task 7 failed: boom");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_THROW(s.run([] {}), std::logic_error);
}

TEST_P(SchedulerPolicy, FirstOfManyExceptionsWins) {
  Scheduler s(testing::config(GetParam(), 1));
  try {
    s.run([&] {
      s.spawn([] { throw std::runtime_error("second"); });
      throw std::runtime_error("first");
    });
    FAIL() << "run() did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "first");
  }
}

TEST_P(SchedulerPolicy, RepeatedStartStopIsClean) {
  for (int round = 0; round < static_cast<int>(scaled(60)); ++round) {
    Scheduler s(testing::config(GetParam(), 1 + round % 4));
    std::atomic<int> n{0};
    s.run([&] {
      for (int i = 0; i < 100; ++i) s.spawn([&] { Scheduler::yield(); n.fetch_add(1); });
    });
    ASSERT_EQ(n.load(), 100) << "round " << round;
  }
}

TEST_P(SchedulerPolicy, RunCanBeCalledAgain) {
  Scheduler s(testing::config(GetParam(), 2));
  for (int i = 0; i < 20; ++i) {
    std::atomic<int> n{0};
    s.run([&] { for (int j = 0; j < 50; ++j) s.spawn([&] { n.fetch_add(1); }); });
    ASSERT_EQ(n.load(), 50);
  }
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

TEST_P(SchedulerPolicy, IdleRuntimeUsesNoCpu) {
  Scheduler s(testing::config(GetParam(), 4));
  s.run([&] { for (int i = 0; i < 1000; ++i) s.spawn([] {}); });
  std::this_thread::sleep_for(50ms);  // let spinners settle
  double before = process_cpu_seconds();
  std::this_thread::sleep_for(300ms);
  double used = process_cpu_seconds() - before;
  EXPECT_LT(used, 0.03) << "4 idle workers used " << used << " s of CPU in 0.3 s";
}

TEST_P(MutexPolicy, SerializesFibersAndPlainThreads) {
  Scheduler s(testing::config(GetParam(), 4));
  Mutex m;
  long counter = 0;  // guarded by m
  const int per_fiber = static_cast<int>(scaled(2000));
  std::thread outsider([&] {
    for (int i = 0; i < per_fiber; ++i) { m.lock(); ++counter; m.unlock(); }
  });
  s.run([&] {
    for (int f = 0; f < 16; ++f)
      s.spawn([&] {
        for (int i = 0; i < per_fiber; ++i) {
          m.lock();
          long seen = counter;
          if (i % 7 == 0) Scheduler::yield();  // hold the lock across a switch
          counter = seen + 1;
          m.unlock();
        }
      });
  });
  outsider.join();
  EXPECT_EQ(counter, 17L * per_fiber);
}

TEST(FiberRuntime, AdapterAcceptsBothPoliciesAndRefusesUnknownOnesAndHugeCases) {
  RuntimeOptions bogus;
  bogus.stack_policy = "bogus";
  EXPECT_NE(FiberRuntime::limit_reason(bogus, Requirements{}), "");
  EXPECT_THROW(FiberRuntime{bogus}, std::invalid_argument);
  for (const char* name : {"", "pooled", "copy"}) {
    RuntimeOptions options;
    options.stack_policy = name;
    EXPECT_EQ(FiberRuntime::limit_reason(options, Requirements{.concurrent_tasks = 1'000'000}), "") << name;
    EXPECT_NE(FiberRuntime::limit_reason(options, Requirements{.concurrent_tasks = 1'000'000'000'000}), "") << name;
    EXPECT_EQ(FiberRuntime::config_for(options).stack_policy,
              std::string_view(name) == "copy" ? StackPolicy::copy : StackPolicy::pooled);
  }
  RuntimeOptions tiny;
  tiny.stack_size = 4096;
  EXPECT_NE(FiberRuntime::limit_reason(tiny, Requirements{}), "");
}

TEST(FiberRuntime, AdapterRunsThroughTheConcept) {
  RuntimeOptions two;
  two.workers = 2;
  FiberRuntime rt(two);
  EXPECT_EQ(rt.workers(), 2);
  std::int64_t sum = 0;
  rt.run([&] {
    FiberRuntime::Channel<std::int64_t> ch(10);
    for (std::int64_t i = 1; i <= 10; ++i) rt.spawn([&ch, i] { FiberRuntime::yield(); ch.send(i); });
    for (int i = 0; i < 10; ++i) sum += *ch.recv();
  });
  EXPECT_EQ(sum, 55);
}

INSTANTIATE_TEST_SUITE_P(Policies, SchedulerPolicy, testing::kPolicies, testing::PolicyName());
INSTANTIATE_TEST_SUITE_P(Policies, MutexPolicy, testing::kPolicies, testing::PolicyName());

}  // namespace
}  // namespace spindle::fiber
