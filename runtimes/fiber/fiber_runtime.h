// fiber_runtime.h — spindle::FiberRuntime, the adapter that puts the fiber library (scheduler.h, channel.h,
// wait_group.h) behind the `spindle::Runtime` concept of runtimes/runtime.h. Promises: every call forwards
// inline to the library (no virtual call, no extra allocation); limit_reason refuses cases this machine's
// memory or address space cannot hold.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "runtimes/fiber/channel.h"
#include "runtimes/fiber/scheduler.h"
#include "runtimes/fiber/wait_group.h"
#include "runtimes/os/net.h"
#include "runtimes/runtime.h"

namespace spindle {

class FiberRuntime {
 public:
  static constexpr std::string_view name = "fiber";
  static constexpr std::string_view summary = "ours: M:N work stealing on Boost.Context; --stack-policy pooled|copy";
  static constexpr Capabilities caps{.blocking_channels = true,
                                     .fork_join_channels = true,
                                     .yield = true,
                                     .parking = true,
                                     .one_thread_per_task = false,
                                     .net = true};

  // limit_reason: empty when the case fits; otherwise why not (unknown stack policy, stack size below the
  // minimum, or concurrent_tasks parked fibers exceeding available memory, address space or commit limit).
  static std::string limit_reason(const RuntimeOptions& options, const Requirements& requirements);
  // config_for: the library configuration for `options`; throws std::invalid_argument on a bad policy.
  static fiber::Config config_for(const RuntimeOptions& options);
  // fit_options: stacks that follow the case (README "Stacks that follow use"): without --stack-size, a
  // case whose tasks need more stack than the default (Requirements::stack_bytes) gets stacks that deep —
  // address space only; pages are committed when touched and given back when a deep fiber parks.
  static RuntimeOptions fit_options(const RuntimeOptions& options, const Requirements& requirements);

  explicit FiberRuntime(const RuntimeOptions& options) : options_(options), scheduler_(config_for(options)) {}
  const RuntimeOptions& options() const noexcept { return options_; }

  template <class F>
  void run(F&& root) { scheduler_.run(std::forward<F>(root)); }
  template <class F>
  void spawn(F&& task) { spawn_fault_point(); scheduler_.spawn(std::forward<F>(task)); }
  int workers() const noexcept { return scheduler_.workers(); }

  using WaitGroup = fiber::WaitGroup;
  template <class T>
  using Channel = fiber::Channel<T>;

  static void yield() { fiber::Scheduler::yield(); }
  static void sleep_for(std::chrono::nanoseconds duration) { fiber::Scheduler::sleep_for(duration); }

  fiber::Scheduler& scheduler() noexcept { return scheduler_; }

  // counters: what the scheduler did during the run, for the record (the harness adds them when present).
  std::map<std::string, double> counters() const {
    const fiber::MonitorStats m = scheduler_.monitor_stats();
    const fiber::SchedulerStats s = scheduler_.stats();
    // busiest_worker_share: the share of finished fibers the busiest worker ran (1/workers = even).
    return {{"monitor_handoffs", static_cast<double>(m.handoffs)},
            {"spare_threads", static_cast<double>(m.spare_threads)},
            {"max_stuck_workers", static_cast<double>(m.max_stuck)},
            {"sched_steals", static_cast<double>(s.steals)},
            {"sched_spins", static_cast<double>(s.spins)},
            {"sched_parks", static_cast<double>(s.parks)},
            {"run_stack_starts", static_cast<double>(s.run_stack_starts)},
            {"stack_evictions", static_cast<double>(scheduler_.stack_evictions())},
            {"busiest_worker_share",
             s.finished > 0 ? static_cast<double>(s.most_finished_by_one) / static_cast<double>(s.finished) : 0.0}};
  }

  // NetPolicy: non-blocking sockets registered with the scheduler's netpoller; a would-block op parks the
  // fiber on it (README "The netpoller"). A socket made outside a fiber waits with poll(2).
  struct NetPolicy {
    static constexpr bool nonblocking = true;
    static void* attach(int fd) {
      fiber::Fiber* f = fiber::Scheduler::current_fiber();
      return f != nullptr ? f->scheduler->netpoller().open(fd) : nullptr;
    }
    static void detach(void* handle) {
      auto* pd = static_cast<fiber::PollDesc*>(handle);
      pd->owner->close(pd);
    }
    static bool wait(void* handle, int fd, bool write, os::Deadline deadline) {
      if (handle == nullptr) return os::poll_fd(fd, write, deadline);
      auto* pd = static_cast<fiber::PollDesc*>(handle);
      return pd->owner->wait(pd, write, deadline.time_since_epoch().count());
    }
  };
  using Net = os::Net<NetPolicy>;

 private:
  RuntimeOptions options_;
  fiber::Scheduler scheduler_;
};

static_assert(Runtime<FiberRuntime>);

}  // namespace spindle
