// deep_stack.h — `deep-stack`: `tasks` tasks each recurse `depth-kib` KiB deep (1 KiB frames the compiler
// cannot fold, merge or turn into a loop), return to their shallow entry frame and park on one shared
// channel; once all are parked the root measures the RSS, then closes the channel to release them.
// Figures: the deep phase's time per task (first spawn to "every task is back from its excursion"), the
// RSS growth per parked task after the excursion (does a runtime give the deep stack back?), the peak RSS
// growth per task. op = one task's deep excursion.
#pragma once

#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "workloads/process_memory.h"
#include "workloads/workload.h"

namespace spindle {

namespace deep_stack_detail {

// One frame holds kFrameBytes of array; saved registers and the return address add a few dozen bytes.
inline constexpr std::size_t kFrameBytes = 1024;
inline constexpr std::size_t kWordsPerFrame = kFrameBytes / sizeof(std::uint64_t);
inline constexpr std::size_t kWordStride = 8;  // one word written per 64-byte line: every page is touched

inline std::uint64_t next_seed(std::uint64_t seed) { return seed * 6364136223846793005ULL + 1442695040888963407ULL; }

// frame_sum: what one frame with `seed` contributes to the checksum.
inline std::uint64_t frame_sum(std::uint64_t seed) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kWordsPerFrame; i += kWordStride) sum += seed + i;
  return sum;
}

// descend: `frames` nested calls of one kFrameBytes array each. The array is written before the call and
// read back after it returns, behind compiler barriers, so every frame stays live across the call below
// (no tail call) and is really in memory; noipa forbids inlining, cloning and interprocedural shortcuts.
[[gnu::noipa]] inline std::uint64_t descend(std::uint64_t frames, std::uint64_t seed) {
  std::uint64_t frame[kWordsPerFrame];
  for (std::size_t i = 0; i < kWordsPerFrame; i += kWordStride) frame[i] = seed + i;
  asm volatile("" : : "r"(frame) : "memory");
  std::uint64_t sum = frames > 1 ? descend(frames - 1, next_seed(seed)) : 0;
  asm volatile("" : : "r"(frame) : "memory");
  for (std::size_t i = 0; i < kWordsPerFrame; i += kWordStride) sum += frame[i];
  return sum;
}

// expected: descend's answer computed without recursion, for the checksum.
inline std::uint64_t expected(std::uint64_t frames, std::uint64_t seed) {
  std::uint64_t sum = 0;
  for (std::uint64_t f = 0; f < frames; ++f, seed = next_seed(seed)) sum += frame_sum(seed);
  return sum;
}

}  // namespace deep_stack_detail

struct DeepStack {
  static constexpr std::string_view name = "deep-stack";
  static constexpr std::string_view summary =
      "every task recurses depth-kib deep, returns and parks; time per excursion, RSS per parked task after it";
  static constexpr std::string_view op = "one task's deep excursion";
  static constexpr MainFigure main_figure{"rss_bytes_per_parked_task_after_deep", "bytes/task", "deep_ns_per_task",
                                          "ns/task deep"};
  // stack_bytes (the requirement runtimes check) = depth + depth/16 + kHeadroomBytes: 1/16 of the depth
  // for what each 1 KiB frame adds (saved registers, return address: a few dozen bytes), and 32 KiB for
  // the task's entry frames and the runtime's (trampoline, std::function, a fiber's control block at the
  // top of its stack, a thread's TLS): a few KiB in practice, so 16 KiB still fits a 64 KiB fiber stack.
  static constexpr std::size_t kHeadroomBytes = 32 * 1024;

  static std::vector<ParamSpec> params() {
    return {{"tasks", 10'000, 1, 1'000'000, "tasks, all parked at once after their excursion"},
            {"depth-kib", 256, 1, 1'048'576, "KiB of stack each task uses at its deepest (1 KiB frames)"}};
  }
  static std::size_t stack_bytes(std::int64_t depth_kib) {
    const std::size_t depth = std::size_t(depth_kib) * 1024;
    return depth + depth / 16 + kHeadroomBytes;
  }
  static Requirements requirements(const ParamValues& p) {
    return {.blocking_channels = true,
            .parking = true,
            .concurrent_tasks = std::uint64_t(p.at("tasks")),
            .stack_bytes = stack_bytes(p.at("depth-kib"))};
  }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    namespace d = deep_stack_detail;
    const std::int64_t n = p.at("tasks");
    const std::uint64_t frames = std::uint64_t(p.at("depth-kib")) * 1024 / d::kFrameBytes;
    typename R::template Channel<std::int64_t> release(0);
    typename R::WaitGroup back, exited;
    std::atomic<std::int64_t> reached{0}, woke{0};
    std::atomic<std::uint64_t> sum{0};
    ProcessMemory before, parked;
    std::chrono::steady_clock::duration deep{};
    rt.run([&] {
      malloc_trim(0);
      before = process_memory();
      reset_peak_rss();
      back.add(n);
      exited.add(n);
      const auto t0 = std::chrono::steady_clock::now();
      for (std::int64_t i = 0; i < n; ++i)
        rt.spawn([&, i] {
          sum.fetch_add(d::descend(frames, std::uint64_t(i)), std::memory_order_relaxed);
          reached.fetch_add(1, std::memory_order_relaxed);
          back.done();
          if (!release.recv()) woke.fetch_add(1, std::memory_order_relaxed);
          exited.done();
        });
      back.wait();
      deep = std::chrono::steady_clock::now() - t0;
      parked = process_memory();
      release.close();
      exited.wait();
    });
    const std::uint64_t peak = peak_rss_bytes();
    auto per_task = [n](std::uint64_t a, std::uint64_t b) { return a > b ? double(a - b) / double(n) : 0.0; };
    WorkloadResult r = passed(std::uint64_t(n), std::uint64_t(n));
    r.counters["deep_ns_per_task"] = double(std::chrono::nanoseconds(deep).count()) / double(n);
    r.counters["rss_bytes_per_parked_task_after_deep"] = per_task(parked.rss_bytes, before.rss_bytes);
    r.counters["peak_rss_bytes_per_task"] = per_task(peak, before.rss_bytes);
    r.counters["tasks_reached"] = double(reached.load());
    std::uint64_t want = 0;
    for (std::int64_t i = 0; i < n; ++i) want += d::expected(frames, std::uint64_t(i));
    expect(r, "sum over every frame of every task", std::int64_t(want), std::int64_t(sum.load()));
    expect(r, "tasks back from their excursion", n, reached.load());
    expect(r, "tasks released by close", n, woke.load());
    return r;
  }
};

}  // namespace spindle
