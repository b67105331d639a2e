// hog_latency.h — `hog-latency`: `hogs` tasks (0 = one per worker) spin on the CPU for `hog-ms` without ever
// yielding, while one ticker task sleeps 1 ms `ticks` times and records how late each wake-up was. What it
// shows: whether the runtime can take the CPU back from a task that never yields (the kernel preempts
// threads; Go preempts goroutines asynchronously; a cooperative scheduler cannot, and its ticker is late by
// about hog-ms). The ticker is spawned first, then the hogs, all at once from the root.
// Lateness of tick k = (time tick k ended - time tick k-1 ended) - 1 ms; tick 0 counts from the moment the
// ticker was spawned, so a ticker that could not even start while the hogs held every worker shows that
// too. Nothing is clipped: a runtime that lets a hog keep the ticker's worker records lateness ~ hog-ms.
// op = one tick. Counters: lateness_p50_ns, lateness_p99_ns, lateness_max_ns (latency_histogram.h), hogs,
// hog_spins. A hog's spin is an LCG, 1024 steps between two clock reads; its final value is checked
// against the LCG jumped ahead by the hog's step count, so the spin cannot be folded away. Checksum: every
// tick counted, every hog spun for at least hog-ms by its own clock, every hog's LCG value right.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/cpu_work.h"
#include "workloads/latency_histogram.h"
#include "workloads/workload.h"

namespace spindle {

struct HogLatency {
  static constexpr std::string_view name = "hog-latency";
  static constexpr std::string_view summary = "CPU hogs that never yield beside a 1 ms ticker; the ticker's lateness";
  static constexpr std::string_view op = "one tick of the ticker (a 1 ms sleep)";
  static constexpr MainFigure main_figure{"lateness_p99_ns", "ns late p99", "lateness_max_ns", "ns late max"};
  static constexpr std::uint64_t kSpinSteps = 1024;  // LCG steps between two clock reads
  static std::vector<ParamSpec> params() {
    return {{"hogs", 0, 0, 1'024, "tasks spinning without yielding; 0 = one per worker"},
            {"hog-ms", 200, 1, 60'000, "how long each hog spins, in milliseconds"},
            {"ticks", 100, 1, 1'000'000, "1 ms sleeps of the ticker"}};
  }
  static Requirements requirements(const ParamValues& p) {
    return {.concurrent_tasks = std::uint64_t(p.at("hogs") > 0 ? p.at("hogs") : default_workers()) + 1};
  }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    using Clock = std::chrono::steady_clock;
    const std::int64_t hogs = p.at("hogs") > 0 ? p.at("hogs") : rt.workers(), ticks = p.at("ticks");
    const auto hog_time = std::chrono::milliseconds(p.at("hog-ms"));
    constexpr auto tick = std::chrono::milliseconds(1);
    LatencyHistogram lateness;
    std::atomic<std::int64_t> ticked{0}, long_enough{0}, right_value{0};
    std::atomic<std::uint64_t> spins{0};
    typename R::WaitGroup wg;
    rt.run([&] {
      wg.add(hogs + 1);
      const auto spawned = Clock::now();
      rt.spawn([&, spawned] {
        auto last = spawned;
        for (std::int64_t k = 0; k < ticks; ++k) {
          R::sleep_for(tick);
          const auto now = Clock::now();
          const auto late = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last - tick).count();
          lateness.record(std::uint64_t(late > 0 ? late : 0));
          last = now;
          ticked.fetch_add(1, std::memory_order_relaxed);
        }
        wg.done();
      });
      for (std::int64_t h = 0; h < hogs; ++h) {
        rt.spawn([&, h] {
          const std::uint64_t seed = 0x9E3779B97F4A7C15ULL * std::uint64_t(h + 1);
          std::uint64_t x = seed, rounds = 0;
          const auto start = Clock::now();
          auto now = start;
          do {
            x = lcg_steps(x, kSpinSteps);
            ++rounds;
            now = Clock::now();
          } while (now - start < hog_time);  // never yields: no scheduling point in here
          long_enough.fetch_add(now - start >= hog_time, std::memory_order_relaxed);
          right_value.fetch_add(x == lcg_jump(seed, rounds * kSpinSteps), std::memory_order_relaxed);
          spins.fetch_add(rounds * kSpinSteps, std::memory_order_relaxed);
          wg.done();
        });
      }
      wg.wait();
    });
    WorkloadResult r = passed(std::uint64_t(ticks), std::uint64_t(hogs + 1));
    r.counters["lateness_p50_ns"] = double(lateness.percentile(500));
    r.counters["lateness_p99_ns"] = double(lateness.percentile(990));
    r.counters["lateness_max_ns"] = double(lateness.max());
    r.counters["hogs"] = double(hogs);
    r.counters["hog_spins"] = double(spins.load());
    expect(r, "ticks", ticks, ticked.load());
    expect(r, "hogs that spun at least hog-ms", hogs, long_enough.load());
    expect(r, "hogs whose LCG value checks", hogs, right_value.load());
    return r;
  }
};

}  // namespace spindle
