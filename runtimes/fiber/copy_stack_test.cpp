// copy_stack_test.cpp — unit tests of the copy stack policy's promises: values handed between fibers that
// share one run stack arrive intact (primitives keep nothing on a parked fiber's stack), a parked fiber's
// own frames survive eviction, started fibers stay on their worker, and a resident fiber resumes uncopied.
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "runtimes/fiber/channel.h"
#include "runtimes/fiber/scheduler.h"
#include "runtimes/fiber/test_policy.h"
#include "runtimes/fiber/test_scale.h"
#include "runtimes/fiber/wait_group.h"

namespace spindle::fiber {
namespace {

using testing::scaled;

// checksum: position-dependent, so a value torn, shifted or left stale does not sum to the same number.
template <std::size_t N>
std::uint64_t checksum(const std::array<std::uint64_t, N>& a) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::uint64_t v : a) h = (h ^ v) * 1099511628211ull;
  return h;
}

// A sender, four relays and a receiver are all spawned on one worker, so under `copy` six fibers share its
// three run stacks and hand-offs evict. A wait record (or value in flight) kept on a parked fiber's stack
// would be overwritten by another fiber's frames, or lost when the parked one is copied back: the
// checksums catch it.
template <std::size_t N>
void hand_off_many(StackPolicy policy, int rounds) {
  using Value = std::array<std::uint64_t, N>;
  constexpr int kRelays = 4;
  Scheduler s(testing::config(policy, 1));
  int good = 0, received = 0;
  s.run([&] {
    std::vector<std::unique_ptr<Channel<Value>>> links;
    for (int i = 0; i <= kRelays; ++i) links.push_back(std::make_unique<Channel<Value>>(0));
    WaitGroup wg;
    wg.add(kRelays + 2);
    s.spawn([&, c = links.front().get()] {
      for (int r = 0; r < rounds; ++r) {
        Value v;
        for (std::size_t i = 0; i < N; ++i) v[i] = static_cast<std::uint64_t>(r) * 1000003u + i;
        c->send(v);
      }
      c->close();
      wg.done();
    });
    for (int k = 0; k < kRelays; ++k)
      s.spawn([&, in = links[k].get(), out = links[k + 1].get()] {
        while (auto v = in->recv()) out->send(*v);
        out->close();
        wg.done();
      });
    s.spawn([&, c = links.back().get()] {
      int r = 0;
      while (auto v = c->recv()) {
        Value want;
        for (std::size_t i = 0; i < N; ++i) want[i] = static_cast<std::uint64_t>(r) * 1000003u + i;
        good += checksum(*v) == checksum(want);
        ++r;
        ++received;
      }
      wg.done();
    });
    wg.wait();
  });
  EXPECT_EQ(received, rounds);
  EXPECT_EQ(good, rounds);
  if (policy == StackPolicy::copy) {
    EXPECT_GE(s.stack_evictions(), static_cast<std::uint64_t>(rounds));
  }
}

class CopyPolicy : public ::testing::TestWithParam<StackPolicy> {};

TEST_P(CopyPolicy, SmallValuesHandedOffOnOneWorkerArriveIntact) {  // wait record in Fiber::scratch
  hand_off_many<2>(GetParam(), static_cast<int>(scaled(20000)));
}

TEST_P(CopyPolicy, LargeValuesHandedOffOnOneWorkerArriveIntact) {  // 2 KiB values: wait record on the heap
  hand_off_many<256>(GetParam(), static_cast<int>(scaled(5000)));
}

// recurse_and_park: builds `depth` frames, each holding a pattern, parks at the bottom `parks` times, then
// checks every frame on the way up. Different depths give evicted stacks of different sizes.
[[gnu::noinline]] int recurse_and_park(int id, int depth, int parks, Channel<int>& wake) {
  volatile std::uint64_t frame[16];
  for (int i = 0; i < 16; ++i) frame[i] = static_cast<std::uint64_t>(id) * 7919u + static_cast<std::uint64_t>(depth * 16 + i);
  int bad = 0;
  if (depth > 0) {
    bad = recurse_and_park(id, depth - 1, parks, wake);
  } else {
    for (int p = 0; p < parks; ++p) {
      if (p % 2 == 0) Scheduler::yield(); else wake.recv();
    }
  }
  for (int i = 0; i < 16; ++i)
    bad += frame[i] != static_cast<std::uint64_t>(id) * 7919u + static_cast<std::uint64_t>(depth * 16 + i);
  return bad;
}

TEST_P(CopyPolicy, ParkedFramesSurviveEvictionAndRestore) {
  for (int workers : {1, 2}) {
    Scheduler s(testing::config(GetParam(), workers));
    const int fibers = static_cast<int>(testing::live_fibers(200)), parks = 40;
    std::atomic<int> bad{0}, done{0};
    s.run([&] {
      auto wake = std::make_unique<Channel<int>>(1024);
      WaitGroup wg;
      wg.add(fibers);
      for (int f = 0; f < fibers; ++f)
        s.spawn([&, f, w = wake.get()] {
          bad += recurse_and_park(f, f % 37, parks, *w);
          done.fetch_add(1);
          wg.done();
        });
      // Feed the half of the parks that are channel waits, with yields in between so fibers interleave.
      for (int i = 0; i < fibers * parks / 2; ++i) {
        wake->send(i);
        if (i % 3 == 0) Scheduler::yield();
      }
      wg.wait();
    });
    EXPECT_EQ(done.load(), fibers) << workers << " workers";
    EXPECT_EQ(bad.load(), 0) << workers << " workers";
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, CopyPolicy, testing::kPolicies, testing::PolicyName());

// A started copy fiber's frames are only valid at its worker's shared-stack addresses, so it must resume on
// the same OS thread however often it parks, yields or sleeps, while stealing spreads unstarted fibers.
TEST(CopyPolicyPinning, StartedFibersResumeOnTheWorkerTheyStartedOn) {
  Scheduler s(testing::config(StackPolicy::copy, 4));
  const int fibers = static_cast<int>(testing::live_fibers(2000));
  std::atomic<int> moved{0}, finished{0};
  s.run([&] {
    auto ch = std::make_unique<Channel<int>>(0);
    WaitGroup wg;
    wg.add(fibers);
    for (int f = 0; f < fibers; ++f)
      s.spawn([&, f, c = ch.get()] {
        const pthread_t home = pthread_self();
        for (int i = 0; i < 20; ++i) {
          if (f % 2 == 0) c->send(i); else c->recv();  // cross-worker hand-offs: readied from other threads
          if (pthread_self() != home) moved.fetch_add(1);
          if (i % 5 == 0) Scheduler::yield();
          if (i == 7) Scheduler::sleep_for(std::chrono::microseconds(50));
          if (pthread_self() != home) moved.fetch_add(1);
        }
        finished.fetch_add(1);
        wg.done();
      });
    wg.wait();
  });
  EXPECT_EQ(finished.load(), fibers);
  EXPECT_EQ(moved.load(), 0);
}

// A fiber that parks with nothing else to run on its worker stays resident on the shared stack; when it is
// readied (here by a plain thread, through the worker's inbox) it resumes with no copy at all.
TEST(CopyPolicyPinning, AResidentFiberResumesWithoutACopy) {
  Scheduler s(testing::config(StackPolicy::copy, 1));
  Channel<int> from_thread(0);
  const int n = static_cast<int>(scaled(2000));
  std::int64_t sum = 0;
  std::thread feeder([&] {
    for (int i = 1; i <= n; ++i) from_thread.send(i);
    from_thread.close();
  });
  s.run([&] {
    WaitGroup wg;  // the root has a private stack, so its frames never share the run stack
    wg.add(1);
    s.spawn([&] {
      while (auto v = from_thread.recv()) sum += *v;
      wg.done();
    });
    wg.wait();
  });
  feeder.join();
  EXPECT_EQ(sum, std::int64_t{n} * (n + 1) / 2);
  EXPECT_EQ(s.stack_evictions(), 0u);
}

// Three run stacks per worker: a conversation between two fibers of one worker puts them on different run
// stacks, so they take turns with no hop through g0 and no copy at all (ping-pong's case).
TEST(CopyPolicyPinning, APairTakesTurnsOnTwoRunStacksWithoutACopy) {
  Scheduler s(testing::config(StackPolicy::copy, 1));
  const int rounds = static_cast<int>(scaled(10000));
  int answered = 0;
  s.run([&] {
    auto ping = std::make_unique<Channel<int>>(0);
    auto pong = std::make_unique<Channel<int>>(0);
    WaitGroup wg;
    wg.add(2);
    s.spawn([&] {
      for (int i = 0; i < rounds; ++i) {
        ping->send(i);
        answered += pong->recv().value_or(-1) == i + 1;
      }
      ping->close();
      wg.done();
    });
    s.spawn([&] {
      while (auto v = ping->recv()) pong->send(*v + 1);
      wg.done();
    });
    wg.wait();
  });
  EXPECT_EQ(answered, rounds);
  EXPECT_EQ(s.stack_evictions(), 0u);
}

// A conversation whose two fibers started on different workers stays split under `copy` (a started fiber
// never moves). Each worker, left with nothing after its message, waits a while for the answer in its inbox
// instead of sleeping at once, so the pair does not pay a futex wake-up per hop (before: every hop slept,
// 40-50 us a round trip). The split is forced: the root keeps its worker busy until the second fiber has
// started elsewhere (Scheduler::blocking gives its queue away), then starts the first one on its own worker.
TEST(CopyPolicyPinning, APairSplitAcrossTwoWorkersDoesNotSleepEveryHop) {
  Scheduler s(testing::config(StackPolicy::copy, 2));
  const int rounds = static_cast<int>(scaled(4000));
  // Up to 5 split conversations, 20 ms apart; the fewest sleeps counts. Without the wait every one sleeps
  // about twice per round trip; with it, one that sleeps on most hops means the other worker's thread was
  // kept off its CPU for over 50 us at a time (a loaded or preempted VM), which 5 in a row would not be.
  int splits = 0;
  bool all_answered = true;
  std::uint64_t fewest_sleeps = ~std::uint64_t{0};
  const auto quiet_enough = [&] { return fewest_sleeps < static_cast<std::uint64_t>(rounds) / 2; };
  s.run([&] {
    for (int attempt = 0; attempt < 40 && splits < 5 && !quiet_enough(); ++attempt) {
      if (attempt > 0) Scheduler::sleep_for(std::chrono::milliseconds(20));
      auto ping = std::make_unique<Channel<int>>(0);
      auto pong = std::make_unique<Channel<int>>(0);
      std::atomic<bool> b_started{false};
      pthread_t a_thread{}, b_thread{};
      WaitGroup wg;
      wg.add(2);
      s.spawn([&] {
        b_thread = pthread_self();
        b_started.store(true, std::memory_order_release);
        while (auto v = ping->recv()) {
          b_thread = pthread_self();  // read by A after the answer: a fiber that moved (unpinned) is caught
          pong->send(*v + 1);
        }
        wg.done();
      });
      // The root's worker hands its queue (the fiber just spawned) away and stays busy until another worker
      // has started it (bounded: at worst this attempt runs unsplit and the next one tries again).
      Scheduler::blocking([&] {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!b_started.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up)
          std::this_thread::yield();
      });
      s.spawn([&] {
        const std::uint64_t before = s.stats().parks;
        int good = 0;
        for (int i = 0; i < rounds; ++i) {
          ping->send(i);
          good += pong->recv().value_or(-1) == i + 1;
        }
        // Split from the first message to the last (a fiber started by a spare runs unpinned and joins A).
        a_thread = pthread_self();
        if (!pthread_equal(a_thread, b_thread)) {
          ++splits;
          all_answered = all_answered && good == rounds;
          fewest_sleeps = std::min(fewest_sleeps, s.stats().parks - before);
        }
        ping->close();
        wg.done();
      });
      wg.wait();
    }
  });
  ASSERT_GT(splits, 0) << "no attempt put the pair on two workers";
  EXPECT_TRUE(all_answered);
  EXPECT_TRUE(quiet_enough()) << "the workers slept on most hops in " << splits << " split conversations (fewest: "
                              << fewest_sleeps << " sleeps for " << rounds << " round trips)";
}

// Under `pooled`, fibers started while more than max_pooled_stacks stacks are out run on their worker's
// run stacks instead (pinned there, evicted when another needs the stack). Mixed with pooled fibers, on two
// workers, with values in flight on both kinds, everything still arrives, and the stacks carved stay far
// below one per fiber.
TEST(PooledRunStacks, FibersBeyondTheLimitRunOnRunStacksAndStayCorrect) {
  Config config = testing::config(StackPolicy::pooled, 2);
  config.max_pooled_stacks = 64;
  Scheduler s(config);
  const int pairs = 400, rounds = 50;  // not scaled: the carve bound below needs many fibers per slab
  std::atomic<int> good{0};
  // The echo fibers outlive the root (they end after their driver closes `ping`): channels outlive run().
  std::vector<std::unique_ptr<Channel<std::array<std::uint64_t, 8>>>> chans;
  for (int p = 0; p < 2 * pairs; ++p) chans.push_back(std::make_unique<Channel<std::array<std::uint64_t, 8>>>(0));
  s.run([&] {
    WaitGroup wg;
    wg.add(pairs);
    for (int p = 0; p < pairs; ++p) {
      auto* ping = chans[2 * p].get();
      auto* pong = chans[2 * p + 1].get();
      s.spawn([ping, pong] {
        while (auto v = ping->recv()) {
          auto w = *v;
          for (auto& x : w) x += 1;
          Scheduler::yield();
          pong->send(w);
        }
      });
      s.spawn([&, ping, pong, p] {
        int ok = 0;
        for (int r = 0; r < rounds; ++r) {
          std::array<std::uint64_t, 8> v;
          for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint64_t>(p) * 1000 + r * 10 + i;
          ping->send(v);
          auto back = pong->recv();
          bool same = back.has_value();
          for (std::size_t i = 0; same && i < v.size(); ++i) same = (*back)[i] == v[i] + 1;
          ok += same;
        }
        ping->close();
        good.fetch_add(ok);
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(good.load(), pairs * rounds);
  EXPECT_GT(s.stats().run_stack_starts, 0u);
  EXPECT_LT(s.stacks().stacks_created(), static_cast<std::size_t>(2 * pairs));
}

}  // namespace
}  // namespace spindle::fiber
