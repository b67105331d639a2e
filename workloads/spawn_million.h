// spawn_million.h — `spawn-million`: the root spawns `tasks` trivial tasks and waits for all of them.
// op = one task spawned, run and finished. Checksum: every task adds its index once.
#pragma once

#include <atomic>

#include "workloads/workload.h"

namespace spindle {

struct SpawnMillion {
  static constexpr std::string_view name = "spawn-million";
  static constexpr std::string_view summary = "spawn trivial tasks from one root, wait for all";
  static constexpr std::string_view op = "one task spawned and finished";
  static constexpr MainFigure main_figure{"ns_per_op", "ns/op"};
  static std::vector<ParamSpec> params() {
    return {{"tasks", 1'000'000, 1, 100'000'000, "tasks to spawn"}};
  }
  // Tasks are independent and short: at worst one must be alive besides the root.
  static Requirements requirements(const ParamValues&) { return {.concurrent_tasks = 1}; }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    const std::int64_t n = p.at("tasks");
    std::atomic<std::int64_t> sum{0};
    typename R::WaitGroup wg;
    rt.run([&] {
      wg.add(n);
      for (std::int64_t i = 0; i < n; ++i)
        rt.spawn([&sum, &wg, i] {
          sum.fetch_add(i, std::memory_order_relaxed);
          wg.done();
        });
      wg.wait();
    });
    WorkloadResult r = passed(std::uint64_t(n), std::uint64_t(n));
    expect(r, "sum of task indices", n * (n - 1) / 2, sum.load());
    return r;
  }
};

}  // namespace spindle
