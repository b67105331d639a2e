// monitor_test.cpp — the monitor (README "The monitor"): a fiber stuck in a plain blocking system call or
// spinning on CPU does not hold up the fibers queued behind it; Scheduler::blocking hands off at once;
// spare threads are bounded and reused; "all fibers are asleep" ends a deadlocked run. Every test would
// hang (and the watchdog fail it) or fail its assertion without the monitor: one worker, and the fiber
// that unblocks the stuck one can only run on another thread.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>

#include "runtimes/fiber/channel.h"
#include "runtimes/fiber/scheduler.h"
#include "runtimes/fiber/test_policy.h"
#include "runtimes/fiber/test_scale.h"
#include "runtimes/fiber/wait_group.h"

namespace spindle::fiber {
namespace {

using namespace std::chrono_literals;

struct Pipe {
  int fd[2];
  Pipe() { EXPECT_EQ(::pipe(fd), 0); }
  ~Pipe() { ::close(fd[0]); ::close(fd[1]); }
  // read_byte: a plain blocking read(2), which the runtime knows nothing about.
  char read_byte() const {
    char c = 0;
    while (::read(fd[0], &c, 1) != 1) {}
    return c;
  }
  void write_byte(char c) const { EXPECT_EQ(::write(fd[1], &c, 1), 1); }
};

class Monitor : public ::testing::TestWithParam<StackPolicy> {};

// MonitorBySignal: the tests that need the monitor's own hand-off (a signal to the stuck thread), which it
// sends neither under TSan nor under the copy policy (README "The monitor"); there they are skipped.
class MonitorBySignal : public Monitor {
 protected:
  void SetUp() override {
#if defined(SPINDLE_TSAN)
    GTEST_SKIP() << "under TSan the monitor hands off by Scheduler::blocking only, never by signal (README)";
#endif
    if (GetParam() == StackPolicy::copy) GTEST_SKIP() << "under copy the monitor hands off by Scheduler::blocking only (README)";
  }
};

// The blocker parks its worker's only thread in read(2); the fiber that writes the pipe is queued behind
// it on that worker (the root, and the fibers it spawns), so only a hand-off lets it run.
TEST_P(MonitorBySignal, ABlockingSystemCallDoesNotHoldUpTheQueuedFibers) {
  Scheduler s(testing::config(GetParam(), 1));
  Pipe pipe;
  std::atomic<bool> blocking{false};
  std::atomic<int> ran{0};
  char got = 0;
  s.run([&] {
    WaitGroup wg;
    wg.add(1);
    s.spawn([&] {
      blocking = true;
      got = pipe.read_byte();
      wg.done();
    });
    while (!blocking.load()) Scheduler::yield();
    for (int i = 0; i < 100; ++i) s.spawn([&] { ran.fetch_add(1); });
    while (ran.load() < 100) Scheduler::yield();
    pipe.write_byte('x');
    wg.wait();
  });
  EXPECT_EQ(got, 'x');
  EXPECT_EQ(ran.load(), 100);
  MonitorStats m = s.monitor_stats();
  EXPECT_GE(m.handoffs, 1u);
  EXPECT_GE(m.spare_threads, 1u);
  EXPECT_LE(m.spare_threads, static_cast<std::uint64_t>(Scheduler::kMaxSpares));
}

// Several fibers stuck at once, each on the thread it took: one spare per stuck worker, so the fiber that
// releases them all still runs (it needs a fifth running thread on one worker's scheduler).
TEST_P(MonitorBySignal, SeveralStuckWorkersGetOneSpareEach) {
  Scheduler s(testing::config(GetParam(), 1));
  constexpr int kBlockers = 4;
  Pipe pipes[kBlockers];
  std::atomic<int> reading{0}, done{0};
  s.run([&] {
    for (int i = 0; i < kBlockers; ++i)
      s.spawn([&, i] {
        reading.fetch_add(1);
        pipes[i].read_byte();
        done.fetch_add(1);
      });
    while (reading.load() < kBlockers) Scheduler::yield();
    for (auto& p : pipes) p.write_byte('r');
  });
  EXPECT_EQ(done.load(), kBlockers);
  MonitorStats m = s.monitor_stats();
  EXPECT_GE(m.max_stuck, 2u);  // at least the root's worker and one spare were stuck together
  // One spare per stuck worker but the last (whose spare may not have started before the run ended).
  EXPECT_GE(m.spare_threads + 1, static_cast<std::uint64_t>(kBlockers));
  EXPECT_LE(m.spare_threads, static_cast<std::uint64_t>(Scheduler::kMaxSpares));
}

// Sleeping fibers of the stuck worker (its timer heap) are woken by another worker.
TEST_P(MonitorBySignal, TimersOfAStuckWorkerStillFire) {
  Scheduler s(testing::config(GetParam(), 1));
  Pipe pipe;
  std::atomic<bool> slept{false};
  s.run([&] {
    WaitGroup wg;
    wg.add(2);
    s.spawn([&] {
      Scheduler::sleep_for(5ms);  // on this worker's heap when the blocker below takes its thread
      slept = true;
      pipe.write_byte('t');
      wg.done();
    });
    s.spawn([&] {
      pipe.read_byte();
      wg.done();
    });
    wg.wait();
  });
  EXPECT_TRUE(slept.load());
}

// A fiber that spins without ever reaching a scheduling point: after the hog threshold its queue moves.
TEST_P(MonitorBySignal, ACpuHogDoesNotHoldUpTheQueuedFibers) {
  Scheduler s(testing::config(GetParam(), 1));
  std::atomic<bool> spinning{false}, release{false};
  s.run([&] {
    s.spawn([&] {
      spinning = true;
      while (!release.load(std::memory_order_relaxed)) {}
    });
    while (!spinning.load()) Scheduler::yield();
    release = true;  // runs only once the spinner's worker was handed off
  });
  EXPECT_GE(s.monitor_stats().handoffs, 1u);
}

// Scheduler::blocking hands off before the call, without waiting for the monitor to notice.
TEST_P(Monitor, BlockingHandsOffAtOnce) {
  Scheduler s(testing::config(GetParam(), 1));
  Pipe pipe;
  s.run([&] {
    WaitGroup wg;
    wg.add(1);
    s.spawn([&] {
      Scheduler::blocking([&] { return pipe.read_byte(); });
      wg.done();
    });
    Scheduler::yield();  // the reader runs and hands off; we continue on the spare
    pipe.write_byte('b');
    wg.wait();
  });
  EXPECT_GE(s.monitor_stats().handoffs, 1u);
  EXPECT_EQ(Scheduler::blocking([] { return 7; }), 7);  // on a plain thread it just runs
}

// Many fibers on several workers, some blocking in plain system calls at random: every value arrives,
// spares come and go, their number stays bounded. For the sanitizers (the hand-off runs in a signal).
TEST_P(Monitor, RandomBlockingUnderLoadLosesNothing) {
  Scheduler s(testing::config(GetParam(), 2));
  const int fibers = static_cast<int>(testing::scaled(400)), steps = 50;
  std::atomic<std::int64_t> sum{0};
  s.run([&] {
    Channel<int> ch(16);
    WaitGroup producers;
    producers.add(fibers);
    for (int f = 0; f < fibers; ++f)
      s.spawn([&, f] {
        std::mt19937 rng(static_cast<unsigned>(f));
        for (int i = 0; i < steps; ++i) {
          if (rng() % 16 == 0) ::usleep(200);  // a plain blocking call
          ch.send(1);
          if (rng() % 8 == 0) Scheduler::yield();
        }
        producers.done();
      });
    s.spawn([&] {
      producers.wait();
      ch.close();
    });
    while (auto v = ch.recv()) sum += *v;
  });
  EXPECT_EQ(sum.load(), std::int64_t{fibers} * steps);
  EXPECT_LE(s.monitor_stats().spare_threads, static_cast<std::uint64_t>(Scheduler::kMaxSpares));
}

// Deadlock: every fiber parked on a channel nobody will send on, no timer, no socket, no plain thread.
TEST_P(Monitor, AllFibersAsleepFailTheRunAsADeadlock) {
  Config config = testing::config(GetParam(), 2);
  config.detect_deadlock = true;
  Scheduler s(config);
  Channel<int> never(0);
  auto t0 = std::chrono::steady_clock::now();
  try {
    s.run([&] {
      for (int i = 0; i < 3; ++i) s.spawn([&] { never.recv(); });
      never.recv();
    });
    FAIL() << "run() returned";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("all fibers are asleep"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 fibers parked"), std::string::npos) << e.what();
  }
  // Measured, not asserted (no timed assertions): how long the report took.
  std::printf("deadlock reported after %.1f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
}

// Not a deadlock: fibers parked while one sleeps on a timer that will wake the rest.
TEST_P(Monitor, ParkedFibersWithATimerArmedAreNotADeadlock) {
  Config config = testing::config(GetParam(), 2);
  config.detect_deadlock = true;
  Scheduler s(config);
  int got = 0;
  s.run([&] {
    Channel<int> later(0);
    s.spawn([&] {
      Scheduler::sleep_for(100ms);  // five times the deadlock grace period
      later.send(5);
    });
    got = *later.recv();
  });
  EXPECT_EQ(got, 5);
}

INSTANTIATE_TEST_SUITE_P(Policies, Monitor, testing::kPolicies, testing::PolicyName{});
INSTANTIATE_TEST_SUITE_P(Policies, MonitorBySignal, testing::kPolicies, testing::PolicyName{});

}  // namespace
}  // namespace spindle::fiber

namespace spindle::fiber {
namespace {

// The scheduler's counters (FiberRuntime puts them in every record): every finished fiber is counted once,
// on the worker that finished it, and the busiest worker's share is a share.
TEST(SchedulerStatsTest, CountEveryFinishedFiberOnce) {
  Scheduler s(testing::config(StackPolicy::pooled, 2));
  s.run([&] {
    WaitGroup wg;
    wg.add(1000);
    for (int i = 0; i < 1000; ++i)
      s.spawn([&] {
        Scheduler::yield();
        wg.done();
      });
    wg.wait();
  });
  SchedulerStats st = s.stats();
  EXPECT_EQ(st.finished, 1001u);  // the root too
  EXPECT_LE(st.most_finished_by_one, st.finished);
  EXPECT_GE(st.most_finished_by_one * 2, st.finished);  // two workers: the busiest ran at least half
}

}  // namespace
}  // namespace spindle::fiber
