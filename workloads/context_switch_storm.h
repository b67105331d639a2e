// context_switch_storm.h — `context-switch-storm`: `tasks` tasks each yield `yields` times, all alive
// together, so every yield hands the worker to another task. op = one yield (one switch).
#pragma once

#include <atomic>

#include "workloads/workload.h"

namespace spindle {

struct ContextSwitchStorm {
  static constexpr std::string_view name = "context-switch-storm";
  static constexpr std::string_view summary = "every task yields repeatedly";
  static constexpr std::string_view op = "one yield";
  static constexpr MainFigure main_figure{"ns_per_op", "ns/op"};
  static std::vector<ParamSpec> params() {
    return {{"tasks", 1'000, 1, 10'000'000, "tasks yielding at once"},
            {"yields", 1'000, 1, 1'000'000'000, "yields per task"}};
  }
  static Requirements requirements(const ParamValues& p) {
    return {.yield = true, .concurrent_tasks = std::uint64_t(p.at("tasks"))};
  }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    const std::int64_t tasks = p.at("tasks"), yields = p.at("yields");
    std::atomic<std::int64_t> total{0};
    typename R::WaitGroup wg;
    rt.run([&] {
      wg.add(tasks);
      for (std::int64_t t = 0; t < tasks; ++t)
        rt.spawn([&total, &wg, yields] {
          std::int64_t count = 0;
          for (std::int64_t i = 0; i < yields; ++i) {
            R::yield();
            ++count;
          }
          total.fetch_add(count, std::memory_order_relaxed);
          wg.done();
        });
      wg.wait();
    });
    WorkloadResult r = passed(std::uint64_t(tasks * yields), std::uint64_t(tasks));
    expect(r, "yields done", tasks * yields, total.load());
    return r;
  }
};

}  // namespace spindle
