// memory_per_task.h — `memory-per-task`: `tasks` tasks are spawned and all parked at once (each blocks
// in recv on one shared channel); the RSS growth between before-spawn and all-parked, divided by the
// tasks, is the figure: stacks, control blocks and queues included. op = one parked task.
#pragma once

#include <malloc.h>

#include <atomic>

#include "workloads/process_memory.h"
#include "workloads/workload.h"

namespace spindle {

struct MemoryPerTask {
  static constexpr std::string_view name = "memory-per-task";
  static constexpr std::string_view summary = "all tasks alive and parked at once; RSS growth per task";
  static constexpr std::string_view op = "one parked task";
  static constexpr MainFigure main_figure{"rss_bytes_per_task", "bytes/task"};
  static std::vector<ParamSpec> params() {
    return {{"tasks", 100'000, 1, 10'000'000, "tasks parked at once"}};
  }
  static Requirements requirements(const ParamValues& p) {
    return {.blocking_channels = true, .parking = true, .concurrent_tasks = std::uint64_t(p.at("tasks"))};
  }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    const std::int64_t n = p.at("tasks");
    typename R::template Channel<std::int64_t> release(0);
    typename R::WaitGroup parked, exited;
    std::atomic<std::int64_t> reached{0}, woke{0};
    ProcessMemory before, after;
    rt.run([&] {
      malloc_trim(0);
      before = process_memory();
      parked.add(n);
      exited.add(n);
      for (std::int64_t i = 0; i < n; ++i)
        rt.spawn([&] {
          reached.fetch_add(1, std::memory_order_relaxed);
          parked.done();
          if (!release.recv()) woke.fetch_add(1, std::memory_order_relaxed);
          exited.done();
        });
      parked.wait();
      after = process_memory();
      release.close();
      exited.wait();
    });
    auto per_task = [n](std::uint64_t a, std::uint64_t b) { return a > b ? double(a - b) / double(n) : 0.0; };
    WorkloadResult r = passed(std::uint64_t(n), std::uint64_t(n));
    r.counters["rss_bytes_per_task"] = per_task(after.rss_bytes, before.rss_bytes);
    r.counters["vm_bytes_per_task"] = per_task(after.vm_bytes, before.vm_bytes);
    r.counters["mappings"] = double(after.mappings);
    r.counters["tasks_reached"] = double(reached.load());
    expect(r, "tasks parked at once", n, reached.load());
    expect(r, "tasks released by close", n, woke.load());
    return r;
  }
};

}  // namespace spindle
