// fiber_bench.cpp — Google Benchmarks of the fiber runtime's primitives (switch, yield, spawn, channel round
// trip, steal, skynet) beside baselines that do not use it (raw Boost.Context switch, std::thread
// create+join, mutex/condvar ping-pong), marl's non_marl_bench idea. Every figure is the counter
// `ns_per_op` (per switch, task or round trip); the scheduler is built outside the timed loop.
#include <benchmark/benchmark.h>

#include <boost/context/detail/fcontext.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "runtimes/fiber/channel.h"
#include "runtimes/fiber/run_queue.h"
#include "runtimes/fiber/scheduler.h"
#include "runtimes/fiber/stack_pool.h"
#include "runtimes/fiber/wait_group.h"

namespace {

using namespace spindle::fiber;
namespace ctx = boost::context::detail;

// report: `ops` operations per iteration -> counter ns_per_op = elapsed / (ops * iterations).
void report(benchmark::State& state, double ops) {
  state.counters["ns_per_op"] =
      benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// ---- baselines that do not use the scheduler ---------------------------------------------------------

void bounce(ctx::transfer_t t) {
  for (;;) t = ctx::jump_fcontext(t.fctx, nullptr);
}

void BM_RawContextSwitch(benchmark::State& state) {
  StackPool pool(StackPool::Options{});
  auto one = pool.take(1);
  Stack* s = one.pop();
  ctx::fcontext_t other = ctx::make_fcontext(s->top(), s->usable(), bounce);
  const int kSwitches = 1000;  // 500 round trips = 1000 switches
  for (auto _ : state)
    for (int i = 0; i < kSwitches / 2; ++i) other = ctx::jump_fcontext(other, nullptr).fctx;
  report(state, kSwitches);
  one.push(s);
  pool.give(one);
}
BENCHMARK(BM_RawContextSwitch);

void BM_ThreadCreateJoin(benchmark::State& state) {
  for (auto _ : state) {
    std::thread t([] { benchmark::DoNotOptimize(0); });
    t.join();
  }
  report(state, 1);
}
BENCHMARK(BM_ThreadCreateJoin)->UseRealTime();

void BM_MutexCondvarPingPong(benchmark::State& state) {
  std::mutex m;
  std::condition_variable cv;
  int turn = 0;  // 0: main's turn, 1: peer's turn, 2: stop
  std::thread peer([&] {
    std::unique_lock lock(m);
    for (;;) {
      cv.wait(lock, [&] { return turn != 0; });
      if (turn == 2) return;
      turn = 0;
      cv.notify_all();
    }
  });
  const int kRoundTrips = 1000;
  for (auto _ : state) {
    std::unique_lock lock(m);
    for (int i = 0; i < kRoundTrips; ++i) {
      turn = 1;
      cv.notify_all();
      cv.wait(lock, [&] { return turn == 0; });
    }
  }
  {
    std::lock_guard lock(m);
    turn = 2;
  }
  cv.notify_all();
  peer.join();
  report(state, kRoundTrips);
}
BENCHMARK(BM_MutexCondvarPingPong)->UseRealTime();

// ---- the fiber runtime --------------------------------------------------------------------------------

// context-switch-storm: `tasks` fibers each yield `yields` times.
// policy: 0 pooled, 1 copy (a bench argument, so both appear in one run).
StackPolicy bench_policy(std::int64_t arg) { return arg == 1 ? StackPolicy::copy : StackPolicy::pooled; }

void BM_YieldSwitch(benchmark::State& state) {
  Scheduler s(Config{.workers = static_cast<int>(state.range(0)), .stack_policy = bench_policy(state.range(2))});
  const int tasks = static_cast<int>(state.range(1)), yields = 1'000'000 / tasks;
  for (auto _ : state) {
    s.run([&] {
      WaitGroup wg;
      wg.add(tasks);
      for (int t = 0; t < tasks; ++t)
        s.spawn([&] {
          for (int y = 0; y < yields; ++y) Scheduler::yield();
          wg.done();
        });
      wg.wait();
    });
  }
  report(state, double(tasks) * yields);
}
BENCHMARK(BM_YieldSwitch)->ArgNames({"workers", "tasks", "copy"})->Args({1, 1000, 0})->Args({2, 1000, 0})
    ->Args({1, 10, 0})->Args({1, 1000, 1})->Args({2, 1000, 1})->Args({1, 10, 1})
    ->UseRealTime()->Unit(benchmark::kMillisecond);

// spawn-million: the root spawns `tasks` trivial fibers and waits on a WaitGroup.
void BM_SpawnJoin(benchmark::State& state) {
  Scheduler s(Config{.workers = static_cast<int>(state.range(0))});
  const int tasks = static_cast<int>(state.range(1));
  for (auto _ : state) {
    s.run([&] {
      WaitGroup wg;
      wg.add(tasks);
      for (int t = 0; t < tasks; ++t) s.spawn([&wg] { wg.done(); });
      wg.wait();
    });
  }
  report(state, tasks);
}
BENCHMARK(BM_SpawnJoin)->ArgNames({"workers", "tasks"})->Args({1, 1'000'000})->Args({2, 1'000'000})
    ->UseRealTime()->Unit(benchmark::kMillisecond);

// ping-pong: two fibers exchange a value over two unbuffered channels.
void BM_ChannelPingPong(benchmark::State& state) {
  Scheduler s(Config{.workers = static_cast<int>(state.range(0)), .stack_policy = bench_policy(state.range(1))});
  const int round_trips = 100'000;
  for (auto _ : state) {
    s.run([&] {
      Channel<std::int64_t> ping(0), pong(0);
      s.spawn([&] {
        for (int i = 0; i < round_trips; ++i) pong.send(*ping.recv() + 1);
      });
      std::int64_t v = 0;
      for (int i = 0; i < round_trips; ++i) {
        ping.send(v);
        v = *pong.recv();
      }
      benchmark::DoNotOptimize(v);
    });
  }
  report(state, round_trips);
}
// The channels live in run()'s root, which has a private stack under copy too (README).
BENCHMARK(BM_ChannelPingPong)->ArgNames({"workers", "copy"})->Args({1, 0})->Args({2, 0})->Args({1, 1})->Args({2, 1})->UseRealTime()->Unit(benchmark::kMillisecond);

// steal: the owner fills its 256-slot ring, a thief takes half in one CAS, both drain (single-threaded:
// the cost of the queue operations themselves). ns_per_op is per fiber moved through the queues.
void BM_StealHalf(benchmark::State& state) {
  std::vector<Fiber> dummies(RunQueue::kCapacity);
  auto victim = std::make_unique<RunQueue>();
  auto thief = std::make_unique<RunQueue>();
  std::size_t stolen = 0;
  for (auto _ : state) {
    for (auto& f : dummies) victim->push_back(&f);
    benchmark::DoNotOptimize(victim->steal_into(*thief, false));
    while (victim->pop()) {}
    while (thief->pop()) ++stolen;
  }
  benchmark::DoNotOptimize(stolen);
  report(state, RunQueue::kCapacity);
}
BENCHMARK(BM_StealHalf);

// skynet: 10-ary tree of fibers, each parent sums its children's results from a channel of capacity 10.
std::int64_t skynet(Scheduler& s, std::int64_t num, std::int64_t size) {
  if (size == 1) return num;
  Channel<std::int64_t> results(10);
  const std::int64_t child = size / 10;
  for (int i = 0; i < 10; ++i)
    s.spawn([&s, &results, num, child, i] { results.send(skynet(s, num + i * child, child)); });
  std::int64_t sum = 0;
  for (int i = 0; i < 10; ++i) sum += *results.recv();
  return sum;
}

void BM_Skynet(benchmark::State& state) {
  Scheduler s(Config{.workers = static_cast<int>(state.range(0))});
  const std::int64_t leaves = 1'000'000;
  for (auto _ : state) {
    std::int64_t sum = 0;
    s.run([&] { sum = skynet(s, 0, leaves); });
    if (sum != leaves * (leaves - 1) / 2) state.SkipWithError("skynet checksum wrong");
  }
  report(state, 1'111'111);  // fibers per tree
}
BENCHMARK(BM_Skynet)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
