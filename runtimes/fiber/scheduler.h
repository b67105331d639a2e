// scheduler.h — Scheduler, the M:N fiber scheduler: `workers` OS threads, each with a local RunQueue, one
// global injection queue, work stealing, bounded spinning and a two-phase futex park, per-worker timers.
// Promises: spawn/ready/yield/sleep_for work from fibers and from plain threads; run() returns when the root
// and everything it spawned finished, or rethrows the first exception that escaped a fiber.
// The design is explained once, in README.md next to this file.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "runtimes/fiber/fiber.h"
#include "runtimes/fiber/intrusive_stack.h"
#include "runtimes/fiber/netpoller.h"
#include "runtimes/fiber/spin_lock.h"
#include "runtimes/fiber/stack_pool.h"

namespace spindle::fiber {

struct Worker;

inline constexpr std::size_t kDefaultMaxPooledStacks = 65'536;

struct Config {
  int workers = 0;                 // 0: all online cores
  std::size_t stack_size = 0;      // 0: kDefaultStackSize
  bool guard_pages = true;         // false: canary-only stacks (tests)
  StackPolicy stack_policy = StackPolicy::pooled;
  // detect_deadlock: the monitor fails run() with "all fibers are asleep — deadlock" when every fiber is
  // parked and nothing can wake one (README "The monitor"). Off by default in the library, because a
  // plain thread that will wake a fiber later is invisible to it; FiberRuntime turns it on.
  bool detect_deadlock = false;
  // monitor: start the monitor thread (README "The monitor"); off only to measure what it buys.
  bool monitor = true;
  // max_pooled_stacks: under `pooled`, a fiber started while the pool has more stacks than this out runs on
  // its worker's run stacks as under `copy` (pinned there, its frames copied out when another needs the
  // stack), so a million parked fibers cost what `copy` costs (README "Run stacks under pooled"). 0: never.
  std::size_t max_pooled_stacks = kDefaultMaxPooledStacks;
};

// SchedulerStats: why a run scaled or did not (README "Counters"): summed over workers and spares.
struct SchedulerStats {
  std::uint64_t steals = 0;   // fibers a worker took from another's queue
  std::uint64_t spins = 0;    // times a worker became a spinner (searching for work)
  std::uint64_t parks = 0;    // idle sleeps (futex or netpoller)
  std::uint64_t finished = 0; // fibers finished, and the most finished on any one worker
  std::uint64_t most_finished_by_one = 0;
  std::uint64_t run_stack_starts = 0;  // `pooled` fibers started on a run stack (max_pooled_stacks reached)
};

// MonitorStats: what the monitor did in this scheduler's life (README "The monitor").
struct MonitorStats {
  std::uint64_t handoffs = 0;       // stuck workers whose queued fibers went to other workers
  std::uint64_t spare_threads = 0;  // spare worker threads created (parked and reused; at most kMaxSpares)
  std::uint64_t max_stuck = 0;      // most workers stuck in one fiber at once
};

// online_cores: sysconf(_SC_NPROCESSORS_ONLN), at least 1.
int online_cores();

class Scheduler {
 public:
  explicit Scheduler(const Config& config);
  // ~Scheduler: stops and joins the workers, destroys closures of fibers that never started, unmaps stacks.
  // Fibers still parked are abandoned without unwinding. Must not be called from one of its own fibers.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // spawn: starts `f` as a new fiber. Any thread. From a fiber of this scheduler the new fiber takes the
  // worker's runnext slot (it runs when the spawner next blocks or yields).
  template <class F>
  void spawn(F&& f) {
    Fiber* fiber = allocate_fiber();
    fiber->set_closure(std::forward<F>(f));
    submit(fiber);
  }

  // run: runs `root` as a fiber; returns when it and every fiber spawned since finished. Rethrows the first
  // exception that escaped any fiber (after stopping the workers; the scheduler is then unusable).
  // Call from a plain thread, one run at a time.
  template <class F>
  void run(F&& root) {
    Fiber* fiber = allocate_fiber();
    fiber->set_closure(std::forward<F>(root));
    run_root(fiber);
  }

  int workers() const noexcept { return nworkers_; }
  // kMaxSpares: spare worker threads the monitor may start for stuck workers (tokio's blocking pool has 512).
  static constexpr int kMaxSpares = 256;
  MonitorStats monitor_stats() const noexcept;
  SchedulerStats stats() const noexcept;
  // blocking: runs `fn`, which may block its thread for long (a system call the runtime does not know of),
  // after handing this worker's queued fibers to a spare worker (tokio's block_in_place). The calling fiber
  // keeps its thread; on a plain thread `fn` just runs.
  template <class F>
  static decltype(auto) blocking(F&& fn) {
    struct Rejoin {
      bool handed;
      ~Rejoin() { if (handed) end_blocking(); }
    } rejoin{begin_blocking()};
    return std::forward<F>(fn)();
  }
  // netpoller: this scheduler's epoll netpoller (README "The netpoller"); sockets register with it.
  Netpoller& netpoller() noexcept { return *netpoller_; }
  const StackPool& stacks() const noexcept { return stacks_; }
  StackPolicy stack_policy() const noexcept { return config_.stack_policy; }
  // stack_evictions: copy policy, how many times a parked fiber's stack was copied out so far.
  std::uint64_t stack_evictions() const noexcept;

  // current_fiber: the calling fiber, or null on a plain thread. Any thread.
  static Fiber* current_fiber() noexcept;
  // yield: lets other runnable fibers of this worker run; sched_yield on a plain thread.
  static void yield();
  // sleep_for: parks the calling fiber on its worker's timer heap; sleeps the thread on a plain thread.
  static void sleep_for(std::chrono::nanoseconds duration);

  // park: fiber only. The caller holds `lock` and has linked its wait record into a list `lock` guards.
  // Switches away; `lock` is released once this fiber's context is saved. Returns after ready(this fiber).
  static void park(SpinLock& lock);
  // ready: makes the parked fiber `f` runnable. Any thread. From a fiber of f's scheduler, f takes the
  // worker's runnext slot (the woken peer inherits the time slice).
  static void ready(Fiber* f);
  // ready_all: makes every fiber in `fibers` runnable (one batch into the global queue, idle workers woken).
  static void ready_all(IntrusiveStack<Fiber>& fibers);

 private:
  friend struct Worker;

  Fiber* allocate_fiber();
  void submit(Fiber* f);
  void run_root(Fiber* root);
  void push_global(Fiber* f);
  void push_global_batch(IntrusiveStack<Fiber>& batch);
  void notify_work();
  // idle_workers: a stale-tolerant hint that some worker spins or sleeps (relaxed loads).
  bool idle_workers() const noexcept {
    return (spinners_.load(std::memory_order_relaxed) | sleepers_.load(std::memory_order_relaxed)) != 0;
  }
  void wake_all_workers();
  void wake_worker(int index);
  bool give_slot_to_poller();
  void check_quiescence();
  static bool begin_blocking();
  static void end_blocking();
  // all_workers: the workers, then the spares created so far (a prefix that only grows; entries stay).
  std::span<const std::unique_ptr<Worker>> all_workers() const noexcept {
    return {slots_.get(), static_cast<std::size_t>(nslots_.load(std::memory_order_acquire))};
  }
  int running_budget() const noexcept { return nworkers_ + active_spares_.load(std::memory_order_relaxed); }
  void monitor_loop();
  bool monitor_pass(std::int64_t now);
  void activate_spares();
  bool deadlocked(std::int64_t now);
  void wake_monitor();
  void adopt_orphan_timers(Worker& w);
  void record_failure(std::exception_ptr error);
  void stop_workers();
  bool work_visible(const Worker& self) const;

  Config config_;
  StackPool stacks_;
  int nworkers_ = 0;
  // slots_: nworkers_ workers, then up to kMaxSpares spares; nslots_ counts the constructed ones.
  std::unique_ptr<std::unique_ptr<Worker>[]> slots_;
  std::atomic<int> nslots_{0};

  // Global injection queue (FIFO through Fiber::link), guarded by global_lock_.
  SpinLock global_lock_;
  Fiber* global_head_ = nullptr;
  Fiber* global_tail_ = nullptr;
  std::atomic<std::size_t> global_size_{0};  // written under global_lock_, read without it

  // Control-block arena: slabs of Fiber freed only by ~Scheduler; free list guarded by arena_lock_.
  SpinLock arena_lock_;
  IntrusiveStack<Fiber> arena_free_;
  std::vector<std::unique_ptr<Fiber[]>> arena_slabs_;

  // Idle protocol (README "Parking"): seq_cst throughout; notify_work's fence pairs with the parker's.
  std::atomic<int> spinners_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<std::uint32_t> idle_epoch_{0};  // futex word idle workers sleep on
  std::atomic<bool> stop_{false};
  bool joined_ = false;

  // Netpoller duty (README "The netpoller"): at most one worker polls at a time (poll_owner_); while it is
  // blocked in epoll_wait (poll_blocked_) it counts as a sleeper, and a notifier that finds no futex
  // sleeper hands it its spinner slot through poll_slots_ and interrupts the poll.
  std::unique_ptr<Netpoller> netpoller_;
  std::atomic<int> poll_owner_{-1};
  std::atomic<bool> poll_blocked_{false};
  std::atomic<int> poll_slots_{0};

  // run() completion: a worker going idle compares spawned and finished counts (README "Quiescence").
  std::atomic<std::uint64_t> external_spawned_{0};
  std::atomic<std::uint32_t> run_gen_{0};
  std::atomic<std::uint32_t> quiescent_gen_{0};  // futex word run() sleeps on

  // The monitor (README "The monitor"): a thread that hands a stuck worker's queued fibers to a spare.
  std::thread monitor_;
  std::atomic<std::uint32_t> monitor_word_{0};  // futex the monitor sleeps on; bumped to wake it
  std::atomic<bool> monitor_stop_{false};
  std::atomic<int> stuck_{0};          // workers handed off and not yet back at a scheduling point
  std::atomic<int> active_spares_{0};  // spares allowed to run (the monitor keeps it at stuck_)
  std::atomic<std::uint64_t> handoffs_{0};
  std::atomic<std::uint64_t> max_stuck_{0};
  std::atomic<bool> plain_wakers_{false};  // a plain thread readied a fiber: deadlock detection stands down
  std::int64_t deadlock_since_ = 0;        // monitor only: when the current all-asleep stretch began
  std::uint32_t deadlock_epoch_ = 0;       // monitor only: idle_epoch_ at that time
  // Orphan timers: the timer heap of a stuck worker, taken over by the next worker that looks.
  SpinLock orphan_lock_;
  IntrusiveStack<Fiber> orphan_timers_;  // sleeping fibers (deadline_ns) through Fiber::link; orphan_lock_
  std::atomic<std::size_t> orphan_count_{0};

  std::atomic<bool> failed_{false};
  std::mutex failure_mutex_;
  std::exception_ptr failure_;  // guarded by failure_mutex_; the first exception wins
};

}  // namespace spindle::fiber
