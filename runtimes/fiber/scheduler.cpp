// scheduler.cpp — the Scheduler's workers: the switch protocol (a leaver's SwitchAction runs on the
// resumer's side once the leaver's context is saved), the copy stack policy (shared run stack, lazy
// eviction, pinned fibers and worker inboxes), work finding (runnext, ring, global, timers, steal),
// spinning and the two-phase futex park, quiescence detection for run(), failure capture, sanitizer hooks.
#include "runtimes/fiber/scheduler.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <stdexcept>
#include <thread>

#include "runtimes/fiber/futex.h"
#include "runtimes/fiber/run_queue.h"

#if defined(SPINDLE_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(SPINDLE_TSAN)
#include <sanitizer/tsan_interface.h>
#endif
#if defined(SPINDLE_ASAN)
#define SPINDLE_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SPINDLE_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace spindle::fiber {

namespace ctx = boost::context::detail;

int online_cores() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : static_cast<int>(n);
}

namespace {

constexpr std::size_t kFiberSlab = 256;        // control blocks per arena slab
constexpr std::size_t kLocalFibersMax = 512;   // a worker's free control blocks before it gives half back
constexpr std::size_t kLocalStacksMax = 64;    // a worker's free stacks before it gives half back
constexpr int kSpinRounds = 4;                 // steal sweeps a spinning worker makes before parking
// kReplySpinNs: how long a worker that readied a fiber pinned to another worker waits for the answer in
// its inbox before it sleeps (wait_for_reply). Longer than a futex wake-up takes here (p99 20 us).
constexpr std::int64_t kReplySpinNs = 50'000;
constexpr std::uint32_t kGlobalFairness = 61;  // every 61st pick looks at the global queue first (Go)
// kSpawnStack: owner-only LIFO of spawned fibers (depth-first fork-join). A 10-ary tree of a million leaves
// keeps 6 levels x 9 siblings waiting; with 32 slots the oldest half spilled into the FIFO ring over and
// over, the ring overflowed into the global queue 17,000 times a repetition (2.2M of skynet's 3.3M fibers
// walked through it under its lock, on one worker as on two) and 30 MB of stacks were live instead of 6.
constexpr std::uint32_t kSpawnStack = 128;
constexpr std::uint32_t kFeedIdleRing = 8;     // ring size up to which spawns feed an idle worker
// The monitor (README "The monitor"): its sleep starts at 20 us and doubles to 10 ms after 50 quiet rounds
// (Go's sysmon); a worker off CPU in one fiber for kBlockedNs, or on CPU in one fiber for kHogNs, is stuck.
constexpr std::int64_t kMonitorMinNs = 20'000;
constexpr std::int64_t kMonitorMaxNs = 10'000'000;
constexpr int kMonitorQuietRounds = 50;
constexpr std::int64_t kBlockedNs = 20'000;
constexpr std::int64_t kHogNs = 2'000'000;
constexpr std::int64_t kStallNs = 20'000'000;  // off CPU but not asleep (preempted, D) this long: handed off too
constexpr std::int64_t kDeadlockGraceNs = 20'000'000;  // all asleep this long, nothing moved: a deadlock
constexpr int kHandoffSignal = SIGURG;                 // Go's preemption signal; ignored by default
// TSan defers asynchronous signals to its own safe points, which on a fiber stack it may reach in the middle
// of a fiber switch (a SEGV inside TSan's MemoryAccess, seen in CI): under TSan the monitor never signals;
// hand_off is still checked there through Scheduler::blocking.
#if defined(SPINDLE_TSAN)
constexpr bool kHandoffBySignal = false;
#else
constexpr bool kHandoffBySignal = true;
#endif
// kRunningInPlace: the `context` of a fiber started in place on its predecessor's stack (fiber_entry);
// non-null so started() holds; overwritten when the fiber first switches out.
const ctx::fcontext_t kRunningInPlace = reinterpret_cast<ctx::fcontext_t>(std::uintptr_t{1});

// wake_bit: worker `index`'s futex bitset in the idle wait (Worker::post wakes one worker by it).
std::uint32_t wake_bit(int index) { return 1u << (static_cast<unsigned>(index) % 32); }

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct TimerEntry {
  std::int64_t deadline_ns;
  Fiber* fiber;
  bool operator>(const TimerEntry& o) const { return deadline_ns > o.deadline_ns; }
};

}  // namespace

// Worker: one OS thread and what it owns. Fields without a note are touched only by the owner thread.
struct alignas(64) Worker {
  Worker(Scheduler& s, int i, bool copy_policy, std::size_t shared_stack_size, bool spare_worker = false)
      : sched(&s), index(i), rng(0x9E3779B97F4A7C15ull * static_cast<unsigned>(i + 1)),
        run_stack_size(shared_stack_size), spare(spare_worker), active(!spare_worker) {
    if (copy_policy) enable_run_stacks();
  }
  // enable_run_stacks: this worker may now start fibers on run stacks, which pins them here (always under
  // `copy`; under `pooled` from the first fiber started beyond Config::max_pooled_stacks). Owner only.
  void enable_run_stacks() {
    for (int k = 0; k < kRunStacks; ++k) {
      shared[k] = std::make_unique<SharedStack>(run_stack_size);
      shared[k]->owner = this;
      shared[k]->slot = k;
    }
  }
  // choose_stack: `f` is about to start here. A `pooled` fiber starts on a run stack instead of a pooled
  // one while the pool has more than max_pooled_stacks out; a spare never pins (it retires). Owner only.
  void choose_stack(Fiber* f) {
    if ((f->flags & Fiber::kMayUseRunStack) == 0) {
      if (spare) [[unlikely]] f->flags |= Fiber::kPrivateStack;  // copy: a spare runs fibers on pooled stacks
      return;
    }
    f->flags &= static_cast<std::uint8_t>(~Fiber::kMayUseRunStack);  // decided once, where it starts
    const std::size_t limit = sched->config_.max_pooled_stacks;
    if (limit == 0 || spare || sched->stacks_.out() <= limit) [[likely]] return;
    f->flags &= static_cast<std::uint8_t>(~Fiber::kPrivateStack);
    if (!pins()) enable_run_stacks();
    count(run_stack_starts);
  }

  Scheduler* sched;
  int index;
  RunQueue runq;       // owner pushes; anyone steals
  Fiber g0;            // this thread's own context: runs loop(), never queued
  Fiber* current = &g0;
  IntrusiveStack<Fiber> free_fibers;
  IntrusiveStack<Stack> free_stacks;
  std::vector<TimerEntry> timers;  // min-heap on deadline
  // tick: scheduling rounds (find_local_work), for fairness; with `spawned`, the monitor's sign of progress.
  std::atomic<std::uint32_t> tick{0};
  // The monitor (README "The monitor"), beside the switch path's other fields (one cache line). `in_user`:
  // a fiber of this worker runs its own code, not the scheduler's. Written by the owner only (relaxed
  // stores), read by the monitor and by the owner's own hand-off signal handler, which runs between two of
  // the owner's instructions: so the handler never sees an owner-only structure half-changed.
  std::atomic<bool> in_user{false};
  std::atomic<bool> detached{false};          // handed off: its queued fibers went elsewhere; cleared at its next entry
  bool rejoined = false;                      // the fiber running now was stuck: its next yield goes global
  std::uint64_t rng;
  bool spinning = false;
  bool posted_away = false;  // readied a fiber pinned to another worker since this worker last went idle
  Fiber* switching_from = nullptr;  // the leaver of the switch in progress (read by on_resume)
  // spawn_stack: fibers displaced from runnext by spawn, run newest first so a fork-join tree runs depth
  // first and few parents are parked (each holding a stack) at once. Owner only, so not stealable: it is
  // bounded, and spilled into the ring whenever another worker is idle.
  Fiber* spawn_stack[kSpawnStack];
  std::uint32_t spawn_count = 0;
  // Monotonic counts for quiescence: single writer (the owner), release stores; read by any worker.
  alignas(64) std::atomic<std::uint64_t> spawned{0};
  std::atomic<std::uint64_t> finished{0};
  std::thread thread;
  // g0's stack for ASan, g0's TSan fiber, the signal stack for guard-page reports.
  const void* g0_stack_bottom = nullptr;
  std::size_t g0_stack_size = 0;
  void* g0_tsan = nullptr;
  std::unique_ptr<char[]> signal_stack;

  // Copy policy (README "The copy policy"). A fiber started on one of the `shared` run stacks is pinned
  // here, to that stack: its frames only make sense at these addresses, so it is never stolen and is
  // readied into this worker's inbox. Three run stacks, so a switch between fibers on different ones needs
  // neither a hop through g0 nor, while both are resident, any copy.
  static constexpr int kRunStacks = 3;
  // pins: run stacks exist, so fibers may be pinned here (the paths below then check inbox and pinned FIFO).
  bool pins() const noexcept { return shared[0] != nullptr; }
  const std::size_t run_stack_size;
  std::unique_ptr<SharedStack> shared[kRunStacks];  // this worker's run stacks
  Fiber* occupant[kRunStacks] = {};  // whose frames are in each run stack now (running, or parked and resident)
  int last_slot = 0;             // the run stack a fiber started from g0 or the root took last
  Fiber* resume_next = nullptr;  // the fiber g0 runs next after a hop (a switch between two fibers of one run stack)
  Fiber* pinned_head = nullptr;  // owner-only FIFO, not stealable: fibers pinned here (copy), yielded ones (pooled)
  Fiber* pinned_tail = nullptr;
  alignas(64) std::atomic<Fiber*> inbox{nullptr};  // fibers pinned here readied by other threads (LIFO push)
  std::atomic<bool> sleeping{false};               // in idle_search's futex wait (seq_cst, pairs with post)
  std::atomic<std::uint64_t> evictions{0};         // stacks copied out (single writer; Scheduler::stack_evictions)
  // Why a run scaled or did not (Scheduler::stats): single writer, counted on slow paths only.
  std::atomic<std::uint64_t> steals{0};      // fibers taken from another worker's queue
  std::atomic<std::uint64_t> spins{0};       // times this worker became a spinner
  std::atomic<std::uint64_t> parks{0};       // sleeps in the idle futex wait (or the netpoller)
  std::atomic<std::uint64_t> run_stack_starts{0};  // `pooled` fibers started on a run stack (choose_stack)

  std::atomic<std::uint32_t> handoff_ask{0};  // the monitor's request: progress() + 1 as it saw it, or 0
  const bool spare;                           // a spare worker (started by the monitor for a stuck one)
  std::atomic<bool> active;                   // spares: allowed to run now (workers: always)
  std::atomic<std::uint32_t> spare_word{0};   // futex a retired spare sleeps on
  std::atomic<bool> sleep_has_deadline{false};  // in the idle futex wait with a timer armed
  std::atomic<pid_t> tid{0};                  // the thread's kernel id, for its /proc state
  std::atomic<bool> cpu_clock_ready{false};
  clockid_t cpu_clock{};                      // the thread's CPU-time clock (written before cpu_clock_ready)
  // Monitor-only bookkeeping.
  std::uint32_t mon_entries = 0;
  std::int64_t mon_since = 0;   // when the monitor first saw this stretch of fiber code
  std::int64_t mon_cpu = -1;    // the thread's CPU time at mon_cpu_at (-1: not sampled in this stretch)
  std::int64_t mon_cpu_at = 0;
  std::int64_t mon_cpu_start = 0;     // ... and at the first look past kBlockedNs (the hog window's start)
  std::int64_t mon_cpu_start_at = 0;

  // enter: a fiber of this worker calls into the scheduler. From here the handler leaves this worker alone,
  // and a worker that was handed off while its fiber ran is counted back.
  void enter() noexcept {
    in_user.store(false, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (detached.load(std::memory_order_relaxed)) [[unlikely]] rejoin();
  }
  // leave: back to the fiber's own code without a switch (a switch's resumed side does this in on_resume).
  void leave() noexcept {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    in_user.store(true, std::memory_order_relaxed);
  }
  // progress: moves whenever this worker schedules (a round of find_local_work: every switch, park, yield,
  // sleep and fiber end) or spawns. Unchanged across two looks while in_user holds: one stretch of fiber code.
  std::uint32_t progress() const noexcept {
    return tick.load(std::memory_order_relaxed) + static_cast<std::uint32_t>(spawned.load(std::memory_order_relaxed));
  }
  void rejoin() noexcept;
  bool give_away() noexcept;
  void hand_off() noexcept;
  void push_global(Fiber* f) { sched->push_global(f); }
  // requeue: a yielding fiber. Pooled: onto the owner-only FIFO (the one copy uses for pinned fibers), no
  // atomic at all; into the stealable ring instead while another worker is idle, so it can be taken.
  void requeue(Fiber* f) {
    if (pins() && f->stack->shared) return push_pinned(f);  // a run-stack fiber never leaves its worker
    if (pins() || sched->idle_workers()) [[unlikely]] return push_back(f);
    push_pinned(f);
  }
  // take_local_fifo: empties the owner-only FIFO into `out`, keeping the fibers pinned here (copy).
  void take_local_fifo(IntrusiveStack<Fiber>& out) noexcept {
    Fiber* f = pinned_head;
    pinned_head = pinned_tail = nullptr;
    while (f != nullptr) {
      Fiber* next = f->link;
      if (home_of(f) == this) push_pinned(f);
      else out.push(f);
      f = next;
    }
  }
  bool maybe_retire();
  char kernel_state() const noexcept;
  std::int64_t cpu_ns() const noexcept;

  // home_of: the worker a copy fiber is pinned to, or null (not started, pooled or private stack).
  static Worker* home_of(const Fiber* f) noexcept {
    return (f->stack != nullptr && f->stack->shared) ? static_cast<Worker*>(SharedStack::of(*f->stack).owner)
                                                     : nullptr;
  }
  // uses_shared: `f` runs on one of this worker's run stacks (started there, or will start there).
  bool uses_shared(const Fiber* f) const noexcept {
    if (f == &g0) return false;
    return f->started() ? f->stack->shared : (f->flags & Fiber::kPrivateStack) == 0;
  }
  // slot_of: which run stack `s` is, or -1 for any other stack (g0's has none: null).
  static int slot_of(const Stack* s) noexcept { return (s != nullptr && s->shared) ? SharedStack::of(*const_cast<Stack*>(s)).slot : -1; }
  void push_pinned(Fiber* f) noexcept;
  Fiber* pop_pinned() noexcept;
  void post(Fiber* f) noexcept;
  // resident_elsewhere: `to` is parked on a run stack other than `running`, still in place there: nothing
  // to copy (the common case of prepare_shared, kept inline on the switch path).
  bool resident_elsewhere(const Fiber* to, int running) const noexcept {
    if (!to->started() || to->stack == nullptr || !to->stack->shared) return false;  // g0: no stack
    const int slot = SharedStack::of(*to->stack).slot;
    return slot != running && occupant[slot] == to;  // occupant[] is ours: a stranger is never in it
  }
  bool prepare_shared(Fiber* to, int running);
  void evict(Fiber* f);
  void restore(Fiber* f) noexcept;
  void retire_stack(Fiber* f);

  void loop();
  // find_local_work: `may_poll` false where the caller holds a SpinLock (park): polling takes PollDesc
  // locks and must never run under another lock.
  inline Fiber* find_local_work(bool may_poll = true);
  [[gnu::always_inline]] Fiber* pick_pinned_or_ring();
  Fiber* pop_local_fifo() noexcept;
  Fiber* find_slow_local_work(bool may_poll);
  Fiber* poll_network_now();
  Fiber* poll_network_blocking();
  Fiber* keep_one(IntrusiveStack<Fiber>& fibers);
  void push_spawned(Fiber* f);
  // feed_idle: spawned fibers go to the stealable ring, not the spawn stack, while another worker is idle
  // and the ring holds fewer than kFeedIdleRing. Unbounded, a spinner's every look turned a fork-join
  // tree breadth first: tens of thousands of unstarted fibers queued, the ring overflowing into the
  // global queue and back (skynet 1M on 2 workers: 30% of the time walking that queue under its lock,
  // slower than one worker, in some processes).
  bool feed_idle() const noexcept { return sched->idle_workers() && runq.approx_size() < kFeedIdleRing; }
  void spill_spawn_stack(std::uint32_t n);
  Fiber* idle_search();
  bool wait_for_reply();
  Fiber* steal(bool take_runnext);
  Fiber* take_from_global();
  void poll_timers();
  void push_back(Fiber* f);
  // switch_to: inlined into its callers (yield, park, sleep, g0's loop, a finishing fiber) so no frame of
  // its own sits between the caller's and jump_fcontext's on a switched-out stack: 48 fewer bytes for the
  // copy policy to move out and in per switch (storm under copy, 1 worker: -6% at the 10th percentile).
  [[gnu::always_inline]] void switch_to(Fiber* from, Fiber* to);
  void start(Fiber* f);
  Stack* acquire_stack();
  bool warm_stack_at_hand() const noexcept { return !free_stacks.empty() && free_stacks.peek()->warm; }
  void release_stack(Stack* s);
  Fiber* allocate_fiber();
  void release_fiber(Fiber* f);
  // run_closure: runs and destroys the task; an escaping exception is recorded and fails the run.
  static void run_closure(Fiber* self) {
    try {
      self->invoke_closure();
    } catch (...) {
      self->scheduler->record_failure(std::current_exception());
    }
    self->destroy_closure();
  }
  static void count(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
};

namespace {

thread_local Worker* tls_worker = nullptr;

// this_worker: the worker running the calling thread. Never cache it across a switch: a fiber may resume
// on another thread, and the compiler may otherwise reuse the TLS address it computed before the switch.
__attribute__((noinline)) Worker* this_worker() noexcept {
  Worker* w = tls_worker;
  asm volatile("" : "+r"(w));
  return w;
}

void fiber_entry(ctx::transfer_t t);

// trim_stack: a stack larger than the default (a case that asked for deep stacks, or --stack-size) gives
// back the pages below a parking fiber's stack pointer: they hold only dead frames (README "Stacks that
// follow use"). `sp` is the saved context; 512 bytes below it stay (the red zone and then some).
// sp == nullptr: the whole stack but its top page (a stack going back to the pool).
void trim_stack(const Stack& s, const void* sp) noexcept {
  const std::uintptr_t page = page_size();
  const auto lo = (reinterpret_cast<std::uintptr_t>(s.bottom()) + page - 1) & ~(page - 1);
  const auto from = sp != nullptr ? reinterpret_cast<std::uintptr_t>(sp) - 512 : reinterpret_cast<std::uintptr_t>(s.top()) - page;
  const auto hi = from & ~(page - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

// on_resume: runs on the resumed side of every switch. Saves the leaver's context, then performs the
// leaver's SwitchAction; only now may other threads see the leaver.
void on_resume(ctx::transfer_t t) {
  Worker* w = static_cast<Worker*>(t.data);  // a jump never changes threads: the jumper's worker is ours
#if defined(SPINDLE_ASAN)
  __sanitizer_finish_switch_fiber(w->current->asan_fake_stack, nullptr, nullptr);
#endif
  Fiber* prev = w->switching_from;
  prev->context = t.fctx;
  switch (prev->action) {
    case SwitchAction::none:
      break;
    case SwitchAction::requeue:
      w->requeue(prev);
      break;
    case SwitchAction::requeue_global:
      if (Worker* home = Worker::home_of(prev); home != nullptr) home->post(prev);  // pinned: its own worker
      else w->push_global(prev);
      break;
    case SwitchAction::unlock:
      if (prev->stack->size > kDefaultStackSize && !prev->stack->shared) [[unlikely]]
        trim_stack(*prev->stack, prev->context);  // before the unlock makes it visible to a waker
      static_cast<SpinLock*>(prev->action_arg)->unlock();
      break;
    case SwitchAction::sleep:
      if (prev->stack->size > kDefaultStackSize && !prev->stack->shared) [[unlikely]]
        trim_stack(*prev->stack, prev->context);
      w->timers.push_back({prev->deadline_ns, prev});
      std::push_heap(w->timers.begin(), w->timers.end(), std::greater<>{});
      break;
    case SwitchAction::finish:
      w->retire_stack(prev);
      w->release_fiber(prev);
      break;
  }
  w->rejoined = false;  // only the yield of the fiber that was stuck goes to the global queue
  std::atomic_signal_fence(std::memory_order_seq_cst);
  w->in_user.store(w->current != &w->g0, std::memory_order_relaxed);
}


// fiber_entry: the bottom frame of every stack. Runs tasks; when a task returns and the next runnable
// fiber has never started, that fiber runs here, in place, on the same stack (no switch at all).
void fiber_entry(ctx::transfer_t t) {
  on_resume(t);
  Fiber* self = this_worker()->current;
  for (;;) {
    Worker::run_closure(self);
    Worker* w = this_worker();
    w->enter();
    Worker::count(w->finished);
    Fiber* next = w->find_local_work();
    if (next != nullptr && !next->started()) w->choose_stack(next);
    // In place only onto the same kind of stack (a pooled one, or a run stack).
    if (next != nullptr && !next->started() &&
        ((next->flags & Fiber::kPrivateStack) == 0) == self->stack->shared) {
      check_on_switch_out(*self->stack, __builtin_frame_address(0));
      next->stack = self->stack;
      next->context = kRunningInPlace;
#if defined(SPINDLE_ASAN)
      next->asan_fake_stack = self->asan_fake_stack;
#endif
      if (self->stack->shared) {
        w->occupant[Worker::slot_of(self->stack)] = next;
#if defined(SPINDLE_TSAN)
        std::swap(next->tsan_fiber, self->tsan_fiber);  // next continues in the TSan fiber running now
#endif
      }
      w->current = next;
      w->release_fiber(self);
      self = next;
      w->leave();
      continue;
    }
    self->action = SwitchAction::finish;
    w->switch_to(self, next != nullptr ? next : &w->g0);
    __builtin_unreachable();
  }
}

// Guard-page hits arrive as SIGSEGV on the fiber's exhausted stack; the handler runs on the worker's
// signal stack, names the stack size and aborts. Other faults get the previous disposition.
struct sigaction previous_segv;

void on_segv(int sig, siginfo_t* info, void* uctx) {
  Worker* w = tls_worker;
  if (w != nullptr && w->current != nullptr && w->current->stack != nullptr) {
    const Stack& s = *w->current->stack;
    const char* addr = static_cast<const char*>(info->si_addr);
    // A guard-page hit, or (unguarded) a frame that ran off the bottom into unmapped memory.
    if (addr < s.bottom() && addr + s.size >= s.base) report_stack_overflow(s.size, s.guarded, s.shared);
  }
  if (previous_segv.sa_flags & SA_SIGINFO) {
    if (previous_segv.sa_sigaction) return previous_segv.sa_sigaction(sig, info, uctx);
  }
  sigaction(SIGSEGV, &previous_segv, nullptr);  // re-fault with the old disposition
}

void install_segv_handler() {
#if defined(SPINDLE_ASAN) || defined(SPINDLE_TSAN)
  (void)&on_segv;  // the sanitizers own SIGSEGV
#else
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
  });
#endif
}

// on_handoff_signal: the monitor's request to hand this thread's worker off. Runs on the worker's own
// thread, so it sees the owner's state exactly as the owner left it: it acts only while the worker runs
// fiber code (not the scheduler's) and has not passed a scheduling point since the monitor looked.
// Async-signal-safe: atomics, lock-free queues, spin locks never held by fiber code, futex and write(2).
struct sigaction previous_handoff;

void on_handoff_signal(int sig, siginfo_t* info, void* uctx) {
  const int saved_errno = errno;
  Worker* w = tls_worker;
  if (w != nullptr) {
    const std::uint32_t ask = w->handoff_ask.load(std::memory_order_relaxed);
    if (w->in_user.load(std::memory_order_relaxed) && !w->detached.load(std::memory_order_relaxed) && ask != 0 &&
        ask == w->progress() + 1)
      w->hand_off();
  } else if ((previous_handoff.sa_flags & SA_SIGINFO) && previous_handoff.sa_sigaction != nullptr) {
    previous_handoff.sa_sigaction(sig, info, uctx);
  } else if (previous_handoff.sa_handler != SIG_DFL && previous_handoff.sa_handler != SIG_IGN &&
             previous_handoff.sa_handler != nullptr) {
    previous_handoff.sa_handler(sig);
  }
  errno = saved_errno;
}

void install_handoff_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_handoff_signal;
    // SA_RESTART: a read(2) the stuck fiber is blocked in goes on after the handler (README "The monitor").
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(kHandoffSignal, &sa, &previous_handoff);
  });
}

}  // namespace

// ---- Worker: the monitor's side -----------------------------------------------------------------------

// give_away: everything queued here that another worker may run goes to the global queue, sleeping fibers
// to the orphan list (adopted by the next idle worker); fibers pinned to this worker's shared stack (copy)
// stay. Async-signal-safe (hand_off runs it in a signal handler): nothing is allocated or freed. True when
// anything moved.
bool Worker::give_away() noexcept {
  IntrusiveStack<Fiber> batch;
  while (Fiber* f = runq.pop()) {
    if (home_of(f) == this) push_pinned(f);  // runnext may hold a fiber pinned here: it stays
    else batch.push(f);
  }
  while (spawn_count != 0) batch.push(spawn_stack[--spawn_count]);
  take_local_fifo(batch);
  bool moved = !batch.empty();
  sched->push_global_batch(batch);
  if (!timers.empty()) {
    IntrusiveStack<Fiber> sleepers;
    auto keep = std::remove_if(timers.begin(), timers.end(), [&](const TimerEntry& t) {
      if (home_of(t.fiber) == this) return false;
      t.fiber->deadline_ns = t.deadline_ns;
      sleepers.push(t.fiber);
      return true;
    });
    timers.erase(keep, timers.end());  // erasing from a vector's end frees nothing
    std::make_heap(timers.begin(), timers.end(), std::greater<>{});
    if (!sleepers.empty()) {
      moved = true;
      std::lock_guard lock(sched->orphan_lock_);
      sched->orphan_timers_.splice(sleepers);
      sched->orphan_count_.store(sched->orphan_timers_.size(), std::memory_order_release);
    }
  }
  return moved;
}

// hand_off: runs on this worker's thread (the signal handler, or Scheduler::blocking) while no owner
// operation is in progress: gives the queue away and counts this worker stuck.
void Worker::hand_off() noexcept {
  const bool moved = give_away();
  detached.store(true, std::memory_order_relaxed);
  handoff_ask.store(0, std::memory_order_relaxed);
  const int stuck = sched->stuck_.fetch_add(1, std::memory_order_seq_cst) + 1;
  std::uint64_t most = sched->max_stuck_.load(std::memory_order_relaxed);
  while (static_cast<std::uint64_t>(stuck) > most &&
         !sched->max_stuck_.compare_exchange_weak(most, static_cast<std::uint64_t>(stuck))) {
  }
  sched->handoffs_.fetch_add(1, std::memory_order_relaxed);
  if (moved) sched->notify_work();
  sched->wake_monitor();  // a spare takes this worker's place
}

// rejoin: the worker's stuck fiber reached a scheduling point (or its thread is back in g0).
void Worker::rejoin() noexcept {
  detached.store(false, std::memory_order_relaxed);
  rejoined = current != &g0;
  sched->stuck_.fetch_sub(1, std::memory_order_seq_cst);
}

// maybe_retire: a spare, between fibers. While more spares run than workers are stuck, one spare gives its
// queued fibers back and sleeps until the monitor needs it again. True when it slept.
bool Worker::maybe_retire() {
  int running = sched->active_spares_.load(std::memory_order_seq_cst);
  do {
    if (running <= sched->stuck_.load(std::memory_order_seq_cst)) return false;
  } while (!sched->active_spares_.compare_exchange_weak(running, running - 1, std::memory_order_seq_cst));
  give_away();  // a spare pins nothing, so nothing stays
  if (spinning) {
    spinning = false;
    sched->spinners_.fetch_sub(1, std::memory_order_seq_cst);
  }
  sched->notify_work();
  active.store(false, std::memory_order_seq_cst);
  // The last fiber of the run may have finished here: say so before sleeping (idle_search would have).
  sched->check_quiescence();
  for (;;) {
    std::uint32_t seen = spare_word.load(std::memory_order_seq_cst);
    if (active.load(std::memory_order_seq_cst) || sched->stop_.load(std::memory_order_seq_cst)) break;
    futex_wait(spare_word, seen);
  }
  return true;
}

std::int64_t Worker::cpu_ns() const noexcept {
  timespec ts{};
  if (!cpu_clock_ready.load(std::memory_order_acquire) || clock_gettime(cpu_clock, &ts) != 0) return 0;
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// kernel_state: the thread's state letter from /proc (R running or runnable, S/D blocked), or '?'.
char Worker::kernel_state() const noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid.load(std::memory_order_acquire)));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return '?';
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return '?';
  buf[n] = 0;
  const char* paren = std::strrchr(buf, ')');  // the command name may hold spaces and parentheses
  return (paren != nullptr && paren[1] == ' ' && paren[2] != 0) ? paren[2] : '?';
}

// ---- Worker: owner-only operations -------------------------------------------------------------------

void Worker::push_back(Fiber* f) {
  if (pins() && f->stack != nullptr && f->stack->shared) [[unlikely]] return push_pinned(f);  // never into the stealable ring
  if (runq.push_back(f)) return;
  IntrusiveStack<Fiber> half;
  if (runq.take_half_for_overflow(half)) {
    half.push(f);  // f goes first in LIFO order; batch order inside the global queue does not matter
    sched->push_global_batch(half);
  } else {
    sched->push_global(f);
  }
}

Fiber* Worker::take_from_global() {
  if (sched->global_size_.load(std::memory_order_relaxed) == 0) return nullptr;
  std::lock_guard lock(sched->global_lock_);
  std::size_t size = sched->global_size_.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  // Thieves only shrink our ring, so its free room can only grow while we fill it.
  std::size_t room = RunQueue::kCapacity - std::min<std::size_t>(RunQueue::kCapacity, runq.approx_size());
  std::size_t n = std::min<std::size_t>({size, size / static_cast<std::size_t>(sched->nworkers_) + 1, RunQueue::kCapacity / 2, room + 1});
  Fiber* first = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    Fiber* f = sched->global_head_;
    sched->global_head_ = f->link;
    f->link = nullptr;
    if (first == nullptr) first = f;
    else runq.push_back(f);
  }
  if (sched->global_head_ == nullptr) sched->global_tail_ = nullptr;
  sched->global_size_.store(size - n, std::memory_order_relaxed);
  return first;
}

// ---- copy policy: pinned queue, inbox, eviction -------------------------------------------------------

void Worker::push_pinned(Fiber* f) noexcept {
  f->link = nullptr;
  if (pinned_tail) pinned_tail->link = f; else pinned_head = f;
  pinned_tail = f;
}

// pop_pinned: first moves whatever other threads posted to the inbox onto the pinned FIFO's tail (in post
// order), so posted fibers cannot starve behind fibers that keep yielding.
Fiber* Worker::pop_pinned() noexcept {
  if (inbox.load(std::memory_order_relaxed) != nullptr) {
    Fiber* posted = inbox.exchange(nullptr, std::memory_order_acquire);  // pairs with post's release CAS
    Fiber* fifo = nullptr;
    while (posted) {
      Fiber* next = posted->link;
      posted->link = fifo;
      fifo = posted;
      posted = next;
    }
    while (fifo) {
      Fiber* next = fifo->link;
      push_pinned(fifo);
      fifo = next;
    }
  }
  Fiber* f = pinned_head;
  if (f) {
    pinned_head = f->link;
    if (!pinned_head) pinned_tail = nullptr;
    f->link = nullptr;
  }
  return f;
}

// post: any thread. `f` is pinned here and was readied elsewhere. Only the post that finds the inbox empty
// checks `sleeping` (seq_cst fence: either we see the sleeper's flag, or its recheck sees our push).
void Worker::post(Fiber* f) noexcept {
  Fiber* head = inbox.load(std::memory_order_relaxed);
  do {
    f->link = head;
  } while (!inbox.compare_exchange_weak(head, f, std::memory_order_seq_cst, std::memory_order_relaxed));
  if (head != nullptr) return;  // the post that made it non-empty saw to the wake-up
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping.load(std::memory_order_seq_cst)) sched->wake_worker(index);
}

// prepare_shared: called before switching to `to` from a fiber running on run stack `running` (-1: g0's
// stack or a private one). If `to` runs on a run stack other than `running` and is not resident there,
// evicts that stack's occupant and copies `to` back in; a fiber that has not started gets the next run
// stack in turn that `from` does not run on. Not called for a fiber still resident on another run stack
// (switch_to asks resident_elsewhere first: the common case after a park with nothing else to run, and a
// pair of fibers taking turns on two run stacks, costs no copy and no call). False when `to` needs the very
// stack `from` runs on: the caller hops through g0.
bool Worker::prepare_shared(Fiber* to, int running) {
  if (!uses_shared(to)) {
    if (Worker* home = home_of(to); home != nullptr) [[unlikely]] {
      std::fputs("spindle fiber: internal error: a copy fiber was resumed off its worker\n", stderr);
      std::abort();
    }
    return true;
  }
  int slot;
  if (to->started()) {
    slot = slot_of(to->stack);
    if (slot == running) return false;
  } else {
    slot = last_slot = (last_slot + 1) % kRunStacks;
    if (slot == running) slot = last_slot = (last_slot + 1) % kRunStacks;
    to->stack = &shared[slot]->stack;  // start() makes its context there
  }
  Fiber*& resident = occupant[slot];
  if (resident != nullptr) evict(resident);
  resident = to;
  if (to->started()) restore(to);
  return true;
}

// evict: copies the used part of the parked occupant's stack, [its saved stack pointer, top), into its
// heap buffer, reusing the buffer when it is big enough and not more than 4x too big.
void Worker::evict(Fiber* f) {
  const Stack& s = *f->stack;
  char* sp = static_cast<char*>(static_cast<void*>(f->context));
  // A frame below bottom() faulted on the guard page already; this catches a wild context (base, not
  // bottom(): no page_size() call on every eviction).
  if (sp < s.base || sp > s.top()) [[unlikely]] report_stack_overflow(s.size, s.guarded, true);
  const std::size_t used = static_cast<std::size_t>(s.top() - sp);
  // The buffer's capacity is kept in 16-byte units beside it (malloc_usable_size on every eviction was 6%
  // of a yield storm); a saturated count (1 MiB and up) asks malloc again.
  const std::size_t capacity = f->saved_units != Fiber::kSavedUnitsMax ? std::size_t{f->saved_units} * 16
                                                                      : malloc_usable_size(f->saved);
  if (capacity < used || capacity > 4 * used + 1024) {
    std::free(f->saved);
    f->saved = static_cast<char*>(std::malloc(used));
    if (f->saved == nullptr) {
      std::fputs("spindle fiber: out of memory evicting a copy fiber's stack\n", stderr);
      std::abort();
    }
    f->saved_units = static_cast<std::uint16_t>(
        std::min<std::size_t>(malloc_usable_size(f->saved) / 16, Fiber::kSavedUnitsMax));
  }
  SPINDLE_ASAN_UNPOISON(sp, used);  // its frames' redzones: the copy reads them; the next occupant reuses them
  std::memcpy(f->saved, sp, used);
  f->saved_size = static_cast<std::uint32_t>(used);
  count(evictions);
}

void Worker::restore(Fiber* f) noexcept {
  char* sp = static_cast<char*>(static_cast<void*>(f->context));
  SPINDLE_ASAN_UNPOISON(sp, f->saved_size);
  std::memcpy(sp, f->saved, f->saved_size);
}

// retire_stack: a fiber finished on this worker. A shared stack just loses its occupant.
void Worker::retire_stack(Fiber* f) {
  if (f->stack->shared) {
    if (Fiber*& resident = occupant[slot_of(f->stack)]; resident == f) resident = nullptr;
  } else {
    release_stack(f->stack);
  }
}

void Worker::poll_timers() {
  std::int64_t now = now_ns();
  while (!timers.empty() && timers.front().deadline_ns <= now) {
    std::pop_heap(timers.begin(), timers.end(), std::greater<>{});
    Fiber* f = timers.back().fiber;
    timers.pop_back();
    push_back(f);
  }
}

// find_local_work: runnext, the spawn stack, the local ring, due timers, the global queue; every 61st
// round also the netpoller (without blocking) and the global queue first. Owner only.
inline Fiber* Worker::find_local_work(bool may_poll) {
  const std::uint32_t t = tick.load(std::memory_order_relaxed) + 1;
  tick.store(t, std::memory_order_relaxed);
  if ((t % kGlobalFairness == 0) | !timers.empty() | sched->stop_.load(std::memory_order_relaxed)) [[unlikely]]
    return find_slow_local_work(may_poll);
  if (Fiber* f = runq.pop_runnext()) return f;
  if (spawn_count != 0) {
    if (spawn_count > 1 && feed_idle()) [[unlikely]] spill_spawn_stack(spawn_count / 2);
    return spawn_stack[--spawn_count];
  }
  if (pins()) [[unlikely]] return pick_pinned_or_ring();
  // Pooled: readied fibers (the ring) before yielded ones (the owner-only FIFO); find_slow_local_work
  // alternates the two every 61st round, so a ring that never empties cannot starve a yielder.
  if (Fiber* f = runq.pop_ring()) return f;
  if (pinned_head != nullptr) return pop_local_fifo();
  return take_from_global();
}

// pop_local_fifo: pooled policy's owner-only FIFO of yielded fibers (no inbox: nobody posts to it).
Fiber* Worker::pop_local_fifo() noexcept {
  Fiber* f = pinned_head;
  pinned_head = f->link;
  if (pinned_head == nullptr) pinned_tail = nullptr;
  f->link = nullptr;
  return f;
}

// pick_pinned_or_ring: the owner-only FIFO (pinned fibers under copy, yielded ones under pooled) and the
// stealable ring take turns, so neither starves.
inline Fiber* Worker::pick_pinned_or_ring() {
  if (tick.load(std::memory_order_relaxed) & 1) {
    if (Fiber* f = pop_pinned()) return f;
    if (Fiber* f = runq.pop_ring()) return f;
  } else {
    if (Fiber* f = runq.pop_ring()) return f;
    if (Fiber* f = pop_pinned()) return f;
  }
  return take_from_global();
}

Fiber* Worker::find_slow_local_work(bool may_poll) {
  if (sched->stop_.load(std::memory_order_relaxed)) return nullptr;
  const std::uint32_t t = tick.load(std::memory_order_relaxed);
  if (t % kGlobalFairness == 0) {
    // A busy worker polls the network now and then, so readiness is never starved by CPU work (Go's
    // findRunnable polls before stealing; sysmon polls when nobody has for 10 ms).
    if (may_poll) {
      if (Fiber* f = poll_network_now()) return f;
    }
    if (Fiber* f = take_from_global()) return f;
  }
  if (!timers.empty() && ((t & 7) == 0 || (runq.empty() && pinned_head == nullptr))) poll_timers();
  if (Fiber* f = runq.pop_runnext()) return f;
  if (spawn_count != 0) return spawn_stack[--spawn_count];
  return pick_pinned_or_ring();
}

// spill_spawn_stack: moves the `n` oldest spawned fibers into the stealable ring and wakes a worker.
void Worker::spill_spawn_stack(std::uint32_t n) {
  for (std::uint32_t i = 0; i < n; ++i) push_back(spawn_stack[i]);
  for (std::uint32_t i = n; i < spawn_count; ++i) spawn_stack[i - n] = spawn_stack[i];
  spawn_count -= n;
  sched->notify_work();
}

// push_spawned: a fiber displaced from runnext by spawn. Goes to the ring when a worker is idle (so it
// can be stolen), else onto the spawn stack.
void Worker::push_spawned(Fiber* f) {
  if (feed_idle()) {
    push_back(f);
    sched->notify_work();
    return;
  }
  if (spawn_count == kSpawnStack) spill_spawn_stack(kSpawnStack / 2);
  spawn_stack[spawn_count++] = f;
}

Fiber* Worker::steal(bool take_runnext) {
  auto all = sched->all_workers();
  std::size_t n = all.size();
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  std::size_t start = static_cast<std::size_t>(rng % n);
  for (std::size_t i = 0; i < n; ++i) {
    Worker* victim = all[(start + i) % n].get();
    if (victim == this || !victim->active.load(std::memory_order_relaxed)) continue;
    if (Fiber* f = victim->runq.steal_into(runq, take_runnext)) {
      count(steals);
      // Only a runnext steal can take a pinned fiber (the ring never holds one): send it home.
      if (Worker* home = home_of(f); home != nullptr && home != this) [[unlikely]] {
        home->post(f);
        continue;
      }
      return f;
    }
  }
  return take_from_global();
}

// wait_for_reply: this worker readied a fiber pinned to another one and has nothing left to run. A
// conversation split across two workers under copy (its fibers cannot move) would otherwise put each
// worker to sleep after every message and pay a futex wake-up per hop (ping-pong, 1 pair, 2 workers: 1
// repetition in 10 at 40-50 us a round trip instead of 0.1). Watches its inbox, and anything else a
// sleeper would recheck, for up to kReplySpinNs; true when something came.
// The first 256 looks pause between them (a reply from a running worker comes within a microsecond or
// two); after that each look yields the CPU, so a worker sharing its CPU with the one that owes the reply
// (more runnable threads than cores) lets it run instead of spinning it out.
bool Worker::wait_for_reply() {
  const std::int64_t until = now_ns() + kReplySpinNs;
  for (unsigned round = 0;; ++round) {
    if (inbox.load(std::memory_order_acquire) != nullptr) return true;
    if (round < 256) {
      spin_pause();
      continue;
    }
    if (sched->work_visible(*this)) return true;
    if (now_ns() >= until) return false;
    sched_yield();
  }
}

// idle_search: called by g0 when find_local_work found nothing. Checks quiescence, spins a bounded number
// of steal sweeps if the spinner cap allows, then parks (two-phase: announce, recheck, sleep).
Fiber* Worker::idle_search() {
  sched->check_quiescence();
  sched->adopt_orphan_timers(*this);
  // The network first, before becoming a spinner (Go's findRunnable): a fiber readied by a socket runs here
  // at once, and finding it wakes nobody (a spinner that finds work wakes another worker).
  if (!spinning) {
    if (Fiber* f = poll_network_now()) return f;
  }
  if (std::exchange(posted_away, false) && wait_for_reply()) return nullptr;  // loop() takes what came
  const int nworkers = sched->running_budget();
  if (!spinning && nworkers > 1 && 2 * sched->spinners_.load(std::memory_order_relaxed) < nworkers) {
    sched->spinners_.fetch_add(1, std::memory_order_seq_cst);
    spinning = true;
    count(spins);
  }
  if (spinning) {
    for (int round = 0; round < kSpinRounds && !sched->stop_.load(std::memory_order_relaxed); ++round) {
      Fiber* f = pins() ? pop_pinned() : nullptr;  // posted to our inbox while we spin
      if (f == nullptr) f = steal(round == kSpinRounds - 1);
      if (f == nullptr && !timers.empty()) {
        poll_timers();
        f = runq.pop();
        if (f == nullptr && pins()) f = pop_pinned();
      }
      if (f != nullptr) {
        spinning = false;
        // The last spinner found work: there may be more, so wake another worker (Go's resetspinning).
        if (sched->spinners_.fetch_sub(1, std::memory_order_seq_cst) == 1) sched->notify_work();
        return f;
      }
      for (int i = 0; i < 64; ++i) spin_pause();
    }
    spinning = false;
    sched->spinners_.fetch_sub(1, std::memory_order_seq_cst);
  }
  // With sockets registered, one idle worker sleeps in epoll_wait instead of the futex (the same protocol).
  if (sched->netpoller_->active()) {
    int none = -1;
    if (sched->poll_owner_.load(std::memory_order_relaxed) == -1 &&
        sched->poll_owner_.compare_exchange_strong(none, index, std::memory_order_acq_rel))
      return poll_network_blocking();
  }
  // Phase 1: announce. Phase 2: recheck everything a notifier could have published before it read
  // sleepers_. Phase 3: sleep unless idle_epoch_ moved since we read it.
  // `sleeping` is this worker's own announcement, for post (copy policy: wake this worker, not any).
  sleeping.store(true, std::memory_order_seq_cst);
  sched->sleepers_.fetch_add(1, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::uint32_t epoch = sched->idle_epoch_.load(std::memory_order_seq_cst);
  if (sched->work_visible(*this)) {
    sched->sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    sleeping.store(false, std::memory_order_relaxed);
    return nullptr;
  }
  std::optional<std::int64_t> deadline;
  if (!timers.empty()) deadline = timers.front().deadline_ns;
  sleep_has_deadline.store(deadline.has_value(), std::memory_order_relaxed);
  count(parks);
  bool woken = futex_wait_bitset(sched->idle_epoch_, epoch, wake_bit(index), deadline);
  sched->sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  sleeping.store(false, std::memory_order_relaxed);
  // notify_work counted us as a spinner before waking us (wake_all only wakes to stop; counts no longer matter).
  spinning = woken;
  return nullptr;
}

// poll_network_now: collects ready sockets without blocking (even while another worker is blocked in
// epoll_wait: epoll hands each edge to one caller) and returns one readied fiber for this worker to run
// next, readying the rest where a channel wake-up would put them. Go's findRunnable does the same before
// stealing, which is what keeps a conversation between two fibers on one worker without any sleep.
Fiber* Worker::poll_network_now() {
  Netpoller& np = *sched->netpoller_;
  if (!np.active()) return nullptr;
  IntrusiveStack<Fiber> fibers;
  np.poll(0, fibers);
  return keep_one(fibers);
}

// keep_one: pops a fiber this worker may run (a copy fiber pinned elsewhere goes home) and readies the rest.
Fiber* Worker::keep_one(IntrusiveStack<Fiber>& fibers) {
  Fiber* mine = fibers.pop();
  if (mine != nullptr) {
    if (Worker* home = home_of(mine); home != nullptr && home != this) {
      home->post(mine);
      mine = nullptr;
    }
  }
  Scheduler::ready_all(fibers);
  return mine;
}

// poll_network_blocking: idle_search's sleep for the worker that holds the poll duty. The same two-phase
// protocol as the futex sleep (announce as a sleeper, recheck, sleep), but in epoll_wait with the next
// timer as timeout; a notifier that finds no futex sleeper interrupts it through the eventfd and hands it
// a spinner slot (Scheduler::give_slot_to_poller). Returns a readied fiber to run, or null.
Fiber* Worker::poll_network_blocking() {
  Netpoller& np = *sched->netpoller_;
  sleeping.store(true, std::memory_order_seq_cst);
  sched->poll_blocked_.store(true, std::memory_order_seq_cst);
  sched->sleepers_.fetch_add(1, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  IntrusiveStack<Fiber> fibers;
  if (!sched->work_visible(*this)) {
    std::int64_t timeout = -1;
    if (!timers.empty()) timeout = std::max<std::int64_t>(0, timers.front().deadline_ns - now_ns());
    count(parks);
    np.poll(timeout, fibers);
  }
  sched->poll_blocked_.store(false, std::memory_order_seq_cst);
  sched->sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  sleeping.store(false, std::memory_order_relaxed);
  sched->poll_owner_.store(-1, std::memory_order_release);
  // Slots handed to us while we were blocked: one makes us a spinner, the rest are dropped.
  int slots = sched->poll_slots_.exchange(0, std::memory_order_seq_cst);
  if (slots > 1) sched->spinners_.fetch_sub(slots - 1, std::memory_order_seq_cst);
  spinning = slots > 0;
  return keep_one(fibers);
}

void Worker::loop() {
  tls_worker = this;
  install_segv_handler();
  tid.store(static_cast<pid_t>(::gettid()), std::memory_order_release);
  if (pthread_getcpuclockid(pthread_self(), &cpu_clock) == 0) cpu_clock_ready.store(true, std::memory_order_release);
#if !defined(SPINDLE_ASAN) && !defined(SPINDLE_TSAN)
  signal_stack = std::make_unique<char[]>(64 * 1024);
  stack_t ss{};
  ss.ss_sp = signal_stack.get();
  ss.ss_size = 64 * 1024;
  sigaltstack(&ss, nullptr);
#endif
#if defined(SPINDLE_ASAN)
  pthread_attr_t attr;
  pthread_getattr_np(pthread_self(), &attr);
  void* addr = nullptr;
  std::size_t size = 0;
  pthread_attr_getstack(&attr, &addr, &size);
  pthread_attr_destroy(&attr);
  g0_stack_bottom = addr;
  g0_stack_size = size;
#endif
#if defined(SPINDLE_TSAN)
  g0_tsan = __tsan_get_current_fiber();
#endif
  g0.scheduler = sched;
  while (!sched->stop_.load(std::memory_order_acquire)) {
    if (detached.load(std::memory_order_relaxed)) [[unlikely]] rejoin();  // back in g0: not stuck
    if (spare && resume_next == nullptr) [[unlikely]] {  // a fiber handed to g0 (park, hop) runs first
      if (maybe_retire()) continue;
      sched->adopt_orphan_timers(*this);
    }
    Fiber* f = resume_next;  // copy policy: a hop between two shared-stack fibers passes through here
    if (f != nullptr) {
      resume_next = nullptr;
    } else {
      f = find_local_work();
      if (f == nullptr) f = idle_search();
      if (f == nullptr) continue;
      if (spinning) {  // woken as a spinner and found work without idle_search's sweep
        spinning = false;
        if (sched->spinners_.fetch_sub(1, std::memory_order_seq_cst) == 1) sched->notify_work();
      }
    }
    g0.action = SwitchAction::none;
    switch_to(&g0, f);
  }
  if (spinning) sched->spinners_.fetch_sub(1, std::memory_order_seq_cst);
#if !defined(SPINDLE_ASAN) && !defined(SPINDLE_TSAN)
  stack_t off{};
  off.ss_flags = SS_DISABLE;
  sigaltstack(&off, nullptr);
#endif
  tls_worker = nullptr;
}

// start: gives `f` its stack: a pooled one (kPrivateStack), or the run stack prepare_shared chose (and
// evicted the occupant of).
void Worker::start(Fiber* f) {
  Stack* s;
  if ((f->flags & Fiber::kPrivateStack) == 0) {
    s = f->stack;
#if defined(SPINDLE_TSAN)
    if (f->tsan_fiber == nullptr) f->tsan_fiber = __tsan_create_fiber(0);
#endif
  } else {
    s = acquire_stack();
#if defined(SPINDLE_TSAN)
    if (s->tsan_fiber == nullptr) s->tsan_fiber = __tsan_create_fiber(0);
#endif
  }
  f->stack = s;
#if defined(SPINDLE_ASAN)
  f->asan_fake_stack = nullptr;
#endif
  f->context = ctx::make_fcontext(s->top(), s->usable(), fiber_entry);
}

// switch_to: runs on `from`'s stack with `from->action` set. `this` is stale after the jump; do not use it.
// Copy policy: a fiber on a run stack cannot copy itself out while it runs there, so a switch from it to
// another fiber of the same run stack hops through g0 (resume_next), which does the copies; a fiber of
// another run stack is prepared right here (nothing to do while it is still resident: resident_elsewhere).
inline void Worker::switch_to(Fiber* from, Fiber* to) {
  if (!to->started()) choose_stack(to);
  if (pins()) [[unlikely]] {
    if (const int running = slot_of(from->stack); !resident_elsewhere(to, running) && !prepare_shared(to, running)) {
      resume_next = to;
      to = &g0;
    }
  }
  if (!to->started()) start(to);
  if (from->stack != nullptr) check_on_switch_out(*from->stack, __builtin_frame_address(0));
  current = to;
#if defined(SPINDLE_ASAN)
  const void* bottom = to->stack ? to->stack->bottom() : g0_stack_bottom;
  std::size_t size = to->stack ? to->stack->usable() : g0_stack_size;
  __sanitizer_start_switch_fiber(from->action == SwitchAction::finish ? nullptr : &from->asan_fake_stack, bottom, size);
#endif
#if defined(SPINDLE_TSAN)
  __tsan_switch_to_fiber(to->stack ? (to->stack->shared ? to->tsan_fiber : to->stack->tsan_fiber) : g0_tsan, 0);
#endif
  switching_from = from;
  ctx::transfer_t t = ctx::jump_fcontext(to->context, this);
  on_resume(t);
}

Stack* Worker::acquire_stack() {
  if (free_stacks.empty()) {
    auto batch = sched->stacks_.take(kLocalStacksMax / 2);
    free_stacks.splice(batch);
  }
  return free_stacks.pop();
}

void Worker::release_stack(Stack* s) {
  if (s->size > kDefaultStackSize) [[unlikely]] trim_stack(*s, nullptr);  // a deep stack keeps one page
  s->warm = true;
  free_stacks.push(s);
  if (free_stacks.size() > kLocalStacksMax) {
    auto half = free_stacks.take(kLocalStacksMax / 2);
    sched->stacks_.give(half);
  }
}

Fiber* Worker::allocate_fiber() {
  if (free_fibers.empty()) {
    std::lock_guard lock(sched->arena_lock_);
    if (sched->arena_free_.size() < kFiberSlab / 2) {
      auto& slab = sched->arena_slabs_.emplace_back(new Fiber[kFiberSlab]);
      for (std::size_t i = kFiberSlab; i-- > 0;) sched->arena_free_.push(&slab[i]);
    }
    auto batch = sched->arena_free_.take(kFiberSlab / 2);
    free_fibers.splice(batch);
  }
  return free_fibers.pop();
}

void Worker::release_fiber(Fiber* f) {
  free_fibers.push(f);
  if (free_fibers.size() > kLocalFibersMax) {
    auto half = free_fibers.take(kLocalFibersMax / 2);
    std::lock_guard lock(sched->arena_lock_);
    sched->arena_free_.splice(half);
  }
}

// ---- Scheduler ----------------------------------------------------------------------------------------

Scheduler::Scheduler(const Config& config)
    : config_(config), stacks_(StackPool::Options{config.stack_size ? config.stack_size : kDefaultStackSize,
                                                  config.guard_pages}) {
  int n = config.workers > 0 ? config.workers : online_cores();
  config_.workers = n;
  const bool copy = config.stack_policy == StackPolicy::copy;
  const std::size_t shared_size = config.stack_size ? config.stack_size : kDefaultSharedStackSize;
  netpoller_ = std::make_unique<Netpoller>();
  install_handoff_handler();
  nworkers_ = n;
  slots_ = std::make_unique<std::unique_ptr<Worker>[]>(static_cast<std::size_t>(n + kMaxSpares));
  for (int i = 0; i < n; ++i) slots_[i] = std::make_unique<Worker>(*this, i, copy, shared_size);
  nslots_.store(n, std::memory_order_release);
  for (int i = 0; i < n; ++i) slots_[i]->thread = std::thread([wp = slots_[i].get()] { wp->loop(); });
  if (config_.monitor) monitor_ = std::thread([this] { monitor_loop(); });
}

Scheduler::~Scheduler() {
  stop_workers();
  // Fibers that never started still own their closures: destroy them. Started ones are abandoned.
  auto discard = [](Fiber* f) {
    if (!f->started() && f->has_closure()) f->destroy_closure();
  };
  for (auto& w : all_workers()) {
    while (Fiber* f = w->runq.pop()) discard(f);
    while (w->spawn_count != 0) discard(w->spawn_stack[--w->spawn_count]);
    if (w->resume_next) discard(w->resume_next);
  }
  for (Fiber* f = global_head_; f != nullptr;) {
    Fiber* next = f->link;
    discard(f);
    f = next;
  }
  // Copy policy: evicted stacks (kept with their control blocks for reuse) and TSan's per-fiber handles.
  for (auto& slab : arena_slabs_)
    for (std::size_t i = 0; i < kFiberSlab; ++i) {
      std::free(slab[i].saved);
#if defined(SPINDLE_TSAN)
      if (slab[i].tsan_fiber) __tsan_destroy_fiber(slab[i].tsan_fiber);
#endif
    }
}

void Scheduler::stop_workers() {
  if (joined_) return;
  monitor_stop_.store(true, std::memory_order_seq_cst);
  wake_monitor();
  if (monitor_.joinable()) monitor_.join();  // first: no spare is created after this
  stop_.store(true, std::memory_order_seq_cst);
  wake_all_workers();
  for (auto& w : all_workers())
    if (w->thread.joinable()) w->thread.join();
  joined_ = true;
}

Fiber* Scheduler::allocate_fiber() {
  Worker* w = this_worker();
  Fiber* f;
  if (w != nullptr && w->sched == this) {
    f = w->allocate_fiber();
  } else {
    std::lock_guard lock(arena_lock_);
    if (arena_free_.empty()) {
      auto& slab = arena_slabs_.emplace_back(new Fiber[kFiberSlab]);
      for (std::size_t i = kFiberSlab; i-- > 0;) arena_free_.push(&slab[i]);
    }
    f = arena_free_.pop();
  }
  f->link = nullptr;
  f->context = nullptr;
  f->stack = nullptr;
  f->scheduler = this;
  f->action = SwitchAction::none;
  f->flags = config_.stack_policy == StackPolicy::pooled ? Fiber::kPrivateStack | Fiber::kMayUseRunStack : 0;
  return f;
}

void Scheduler::submit(Fiber* f) {
  Worker* w = this_worker();
  if (w != nullptr && w->sched == this) {
    const bool from_user = w->in_user.load(std::memory_order_relaxed);  // not when the scheduler itself calls
    if (from_user) w->enter();
    Worker::count(w->spawned);
    if (Fiber* displaced = w->runq.set_runnext(f)) w->push_spawned(displaced);
    if (from_user) w->leave();
    return;
  }
  plain_wakers_.store(true, std::memory_order_relaxed);  // a plain thread spawns: deadlock detection stands down
  external_spawned_.fetch_add(1, std::memory_order_seq_cst);
  push_global(f);
  notify_work();
}

void Scheduler::push_global(Fiber* f) {
  std::lock_guard lock(global_lock_);
  f->link = nullptr;
  if (global_tail_) global_tail_->link = f; else global_head_ = f;
  global_tail_ = f;
  global_size_.store(global_size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Scheduler::push_global_batch(IntrusiveStack<Fiber>& batch) {
  if (batch.empty()) return;
  // Link the batch outside the lock, then splice it in.
  std::size_t n = batch.size();
  Fiber* first = batch.pop();
  Fiber* last = first;
  while (Fiber* f = batch.pop()) {
    last->link = f;
    last = f;
  }
  last->link = nullptr;
  std::lock_guard lock(global_lock_);
  if (global_tail_) global_tail_->link = first; else global_head_ = first;
  global_tail_ = last;
  global_size_.store(global_size_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// notify_work: called after publishing work. The fence orders the publication before the loads of
// spinners_/sleepers_ (pairs with the fence in idle_search). If no one spins and someone sleeps, claim a
// spinner slot for the worker we wake (so concurrent notifiers do not all make the syscall).
void Scheduler::notify_work() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (spinners_.load(std::memory_order_relaxed) != 0 || sleepers_.load(std::memory_order_relaxed) == 0) return;
  int expected = 0;
  if (!spinners_.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) return;
  idle_epoch_.fetch_add(1, std::memory_order_seq_cst);
  if (futex_wake(idle_epoch_, 1) == 0 && !give_slot_to_poller())
    spinners_.fetch_sub(1, std::memory_order_seq_cst);  // no one to hand it to
}

// give_slot_to_poller: a notifier holding a spinner slot found no futex sleeper. If a worker is blocked in
// the netpoller, the slot goes to it (poll_slots_) and its poll is interrupted; true then. A poller that
// woke before the slot arrived has already collected poll_slots_: the recheck takes stranded slots back
// (each slot is taken exactly once, by the poller or here).
bool Scheduler::give_slot_to_poller() {
  if (!poll_blocked_.load(std::memory_order_seq_cst)) return false;
  poll_slots_.fetch_add(1, std::memory_order_seq_cst);
  netpoller_->interrupt();
  if (!poll_blocked_.load(std::memory_order_seq_cst)) {
    if (int back = poll_slots_.exchange(0, std::memory_order_seq_cst); back > 0)
      spinners_.fetch_sub(back, std::memory_order_seq_cst);
  }
  return true;
}

void Scheduler::wake_all_workers() {
  idle_epoch_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(idle_epoch_);
  netpoller_->interrupt();
  for (auto& w : all_workers().subspan(static_cast<std::size_t>(nworkers_))) {  // retired spares
    w->spare_word.fetch_add(1, std::memory_order_seq_cst);
    futex_wake_all(w->spare_word);
  }
}

// wake_worker: copy policy, after Worker::post found worker `index` asleep. Like notify_work it hands the
// woken worker a spinner slot; the bitset wakes that worker only (up to 32 workers; beyond, every worker
// sharing its bit, each given a slot).
void Scheduler::wake_worker(int index) {
  spinners_.fetch_add(1, std::memory_order_seq_cst);
  idle_epoch_.fetch_add(1, std::memory_order_seq_cst);
  int woken = futex_wake_bitset(idle_epoch_, all_workers().size() > 32 ? INT_MAX : 1, wake_bit(index));
  // The worker may be the one blocked in the netpoller rather than on the futex.
  if (woken == 0 && poll_owner_.load(std::memory_order_seq_cst) == index && give_slot_to_poller()) return;
  if (woken != 1) spinners_.fetch_add(woken - 1, std::memory_order_seq_cst);
}

bool Scheduler::work_visible(const Worker& self) const {
  if (stop_.load(std::memory_order_seq_cst)) return true;
  if (self.pins() && self.inbox.load(std::memory_order_seq_cst) != nullptr) return true;
  if (global_size_.load(std::memory_order_seq_cst) != 0) return true;
  if (orphan_count_.load(std::memory_order_seq_cst) != 0) return true;
  for (auto& w : all_workers())
    if (!w->runq.empty()) return true;
  return !self.timers.empty() && self.timers.front().deadline_ns <= now_ns();
}

// check_quiescence: finished counts are read before spawned counts. Every task counted finished had its
// spawn counted first (spawn happens-before finish), so equal sums mean nothing is alive; tasks are only
// spawned by live tasks, so the state is stable. run_gen_ is read first: it is bumped after the root's
// spawn is counted, so a generation seen here has its root included.
void Scheduler::check_quiescence() {
  std::uint32_t gen = run_gen_.load(std::memory_order_acquire);
  if (quiescent_gen_.load(std::memory_order_acquire) >= gen) return;
  std::uint64_t finished = 0, spawned = 0;
  // A spare created between the two sums only adds to `spawned`'s side of the comparison: safe.
  for (auto& w : all_workers()) finished += w->finished.load(std::memory_order_acquire);
  spawned = external_spawned_.load(std::memory_order_acquire);
  for (auto& w : all_workers()) spawned += w->spawned.load(std::memory_order_acquire);
  if (spawned != finished) return;
  std::uint32_t seen = quiescent_gen_.load(std::memory_order_relaxed);
  while (seen < gen && !quiescent_gen_.compare_exchange_weak(seen, gen, std::memory_order_release)) {}
  futex_wake_all(quiescent_gen_);
}

void Scheduler::run_root(Fiber* root) {
  if (failed_.load() || joined_) {
    throw std::logic_error("spindle fiber: run() on a scheduler that stopped after a failure");
  }
  external_spawned_.fetch_add(1, std::memory_order_seq_cst);
  root->flags = Fiber::kPrivateStack;  // a stack of its own: objects the root declares may be shared with its fibers
  std::uint32_t gen = run_gen_.fetch_add(1, std::memory_order_seq_cst) + 1;
  push_global(root);
  notify_work();
  wake_monitor();  // it sleeps between runs
  for (;;) {
    std::uint32_t q = quiescent_gen_.load(std::memory_order_acquire);
    if (q >= gen || failed_.load(std::memory_order_acquire)) break;
    futex_wait(quiescent_gen_, q);
  }
  if (failed_.load(std::memory_order_acquire)) {
    stop_workers();
    std::exception_ptr error;
    {
      std::lock_guard lock(failure_mutex_);
      error = failure_;
    }
    std::rethrow_exception(error);
  }
}

void Scheduler::record_failure(std::exception_ptr error) {
  {
    std::lock_guard lock(failure_mutex_);
    if (failure_) return;
    failure_ = std::move(error);
  }
  failed_.store(true, std::memory_order_seq_cst);
  stop_.store(true, std::memory_order_seq_cst);  // workers stop picking fibers; run() joins them
  wake_all_workers();
  quiescent_gen_.fetch_add(0, std::memory_order_seq_cst);
  futex_wake_all(quiescent_gen_);
}

// ---- the monitor ---------------------------------------------------------------------------------------

void Scheduler::wake_monitor() {
  monitor_word_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake(monitor_word_, 1);
}

SchedulerStats Scheduler::stats() const noexcept {
  SchedulerStats s;
  for (auto& w : all_workers()) {
    s.steals += w->steals.load(std::memory_order_relaxed);
    s.spins += w->spins.load(std::memory_order_relaxed);
    s.parks += w->parks.load(std::memory_order_relaxed);
    s.run_stack_starts += w->run_stack_starts.load(std::memory_order_relaxed);
    const std::uint64_t ran = w->finished.load(std::memory_order_relaxed);
    s.most_finished_by_one = std::max(s.most_finished_by_one, ran);
    s.finished += ran;
  }
  return s;
}

MonitorStats Scheduler::monitor_stats() const noexcept {
  MonitorStats m;
  m.handoffs = handoffs_.load(std::memory_order_relaxed);
  m.spare_threads = static_cast<std::uint64_t>(nslots_.load(std::memory_order_acquire) - nworkers_);
  m.max_stuck = max_stuck_.load(std::memory_order_relaxed);
  return m;
}

// adopt_orphan_timers: sleeping fibers of a stuck worker (or a retiring spare) join `w`'s timer heap.
void Scheduler::adopt_orphan_timers(Worker& w) {
  if (orphan_count_.load(std::memory_order_relaxed) == 0) return;
  IntrusiveStack<Fiber> sleepers;
  {
    std::lock_guard lock(orphan_lock_);
    sleepers.splice(orphan_timers_);
    orphan_count_.store(0, std::memory_order_relaxed);
  }
  while (Fiber* f = sleepers.pop()) {
    w.timers.push_back({f->deadline_ns, f});
    std::push_heap(w.timers.begin(), w.timers.end(), std::greater<>{});
  }
}

// monitor_loop: Go's sysmon. Sleeps while no run() is in progress; during a run wakes every 20 us, doubling
// to 10 ms once nothing needed it for 50 rounds.
void Scheduler::monitor_loop() {
  prctl(PR_SET_TIMERSLACK, 1UL);  // a 20 us sleep, not the default 50 us of slack
  std::int64_t delay = kMonitorMinNs;
  int quiet = 0;
  while (!monitor_stop_.load(std::memory_order_acquire)) {
    std::uint32_t seen = monitor_word_.load(std::memory_order_seq_cst);
    const bool in_run = quiescent_gen_.load(std::memory_order_acquire) < run_gen_.load(std::memory_order_acquire) &&
                        !failed_.load(std::memory_order_acquire);
    if (!in_run) {
      futex_wait(monitor_word_, seen);
      delay = kMonitorMinNs;
      quiet = 0;
      deadlock_since_ = 0;
      continue;
    }
    futex_wait(monitor_word_, seen, std::chrono::nanoseconds(delay));
    if (monitor_stop_.load(std::memory_order_acquire)) break;
    if (monitor_pass(now_ns())) {
      delay = kMonitorMinNs;
      quiet = 0;
    } else if (++quiet > kMonitorQuietRounds) {
      delay = std::min(delay * 2, kMonitorMaxNs);
    }
  }
}

// monitor_pass: finds workers stuck in one stretch of fiber code and asks each (SIGURG) to hand off; keeps
// one spare running per stuck worker; checks for a deadlock. True when it did something.
bool Scheduler::monitor_pass(std::int64_t now) {
  bool acted = false;
  for (auto& wp : all_workers()) {
    Worker& w = *wp;
    if (!w.active.load(std::memory_order_relaxed)) continue;
    const std::uint32_t e = w.progress();
    if (!w.in_user.load(std::memory_order_relaxed) || e != w.mon_entries || w.detached.load(std::memory_order_relaxed)) {
      w.mon_entries = e;
      w.mon_since = now;
      w.mon_cpu = -1;
      continue;
    }
    if (w.handoff_ask.load(std::memory_order_relaxed) == e + 1) continue;  // asked already
    if (now - w.mon_since < kBlockedNs) continue;
    // The thread's CPU clock (one cheap call) tells the cases apart. Asleep in the kernel: blocked in a
    // system call (Go's syscall retake), handed off after kBlockedNs; only a thread that did not run since
    // the last look is asked about in /proc (an open, a read and a close). On CPU for most of kHogNs: a
    // hog. Neither (runnable but preempted, or in D: page faults, reclaim, the mmap lock): not handed off
    // before kStallNs, since a spare would only add a thread to the CPUs or the lock everyone waits for.
    const std::int64_t cpu = w.cpu_ns(), last = w.mon_cpu, last_at = w.mon_cpu_at;
    w.mon_cpu = cpu;
    w.mon_cpu_at = now;
    if (last < 0) {  // first look at this stretch past kBlockedNs: the hog window starts here
      w.mon_cpu_start = cpu;
      w.mon_cpu_start_at = now;
      acted = true;  // look again soon (the monitor's sleep restarts at kMonitorMinNs)
      continue;
    }
    if (now - w.mon_since < kHogNs) {
      if ((cpu - last) * 2 > now - last_at) continue;  // it ran: not blocked
      // Only an interruptible sleep (S: a read, a futex, a sleep) counts as blocked this early.
      if (w.kernel_state() != 'S') continue;
    } else {
      const std::int64_t window = now - w.mon_cpu_start_at;
      if (window < kHogNs / 2) continue;  // too little seen yet to tell a hog
      const bool ran = (cpu - w.mon_cpu_start) * 2 >= window;
      if (!ran && now - w.mon_since < kStallNs && w.kernel_state() != 'S') continue;
    }
    // Under copy, fibers pinned to the stuck worker's run stack cannot move anyway, and a spare would run
    // the rest on pooled stacks, the memory copy exists to save: only Scheduler::blocking hands off there.
    if (!kHandoffBySignal || config_.stack_policy == StackPolicy::copy) continue;
    w.handoff_ask.store(e + 1, std::memory_order_relaxed);
    pthread_kill(w.thread.native_handle(), kHandoffSignal);
    acted = true;
  }
  if (active_spares_.load(std::memory_order_seq_cst) < stuck_.load(std::memory_order_seq_cst)) {
    activate_spares();
    acted = true;
  }
  if (config_.detect_deadlock && deadlocked(now)) acted = true;
  return acted;
}

// activate_spares: one running spare per stuck worker: a retired spare first, else a new thread, at most
// kMaxSpares in all.
void Scheduler::activate_spares() {
  while (active_spares_.load(std::memory_order_seq_cst) < stuck_.load(std::memory_order_seq_cst)) {
    // A worker that is idle (spinning, or asleep and woken by the hand-off) takes the stuck one's queue
    // itself: a spare only when every running worker is busy, as Go hands a P to an idle M first. Without
    // this, a million fibers faulting in their first stack pages (memory-per-task, 2 workers) looked like
    // 2 ms hogs, each spare faulted in turn, and 256 spare threads ran: 4x the time and pooled stacks for all.
    if (idle_workers()) return;
    Worker* pick = nullptr;
    auto all = all_workers();
    for (std::size_t i = static_cast<std::size_t>(nworkers_); i < all.size() && pick == nullptr; ++i)
      if (!all[i]->active.load(std::memory_order_seq_cst)) pick = all[i].get();
    if (pick != nullptr) {
      active_spares_.fetch_add(1, std::memory_order_seq_cst);
      pick->active.store(true, std::memory_order_seq_cst);
      pick->spare_word.fetch_add(1, std::memory_order_seq_cst);
      futex_wake_all(pick->spare_word);
      continue;
    }
    const int n = static_cast<int>(all.size());
    if (n >= nworkers_ + kMaxSpares) return;  // the bound: the rest wait for their stuck workers
    slots_[n] = std::make_unique<Worker>(*this, n, /*copy_policy=*/false, 0, /*spare_worker=*/true);
    Worker* spare = slots_[n].get();
    spare->active.store(true, std::memory_order_seq_cst);  // before it is published: never picked twice
    active_spares_.fetch_add(1, std::memory_order_seq_cst);
    nslots_.store(n + 1, std::memory_order_release);
    spare->thread = std::thread([spare] { spare->loop(); });
  }
}

// deadlocked: every worker asleep in its idle wait with no timer, nothing queued, no socket registered,
// no worker stuck in a fiber, no plain thread ever waking fibers — and fibers alive. Held for
// kDeadlockGraceNs with no wake-up in between, it fails the run (Go: "all goroutines are asleep").
bool Scheduler::deadlocked(std::int64_t now) {
  auto calm = [&] {
    if (plain_wakers_.load(std::memory_order_relaxed) || stuck_.load(std::memory_order_seq_cst) != 0 ||
        global_size_.load(std::memory_order_seq_cst) != 0 || orphan_count_.load(std::memory_order_seq_cst) != 0 ||
        netpoller_->active() || poll_owner_.load(std::memory_order_seq_cst) != -1)
      return false;
    for (auto& w : all_workers()) {
      if (!w->active.load(std::memory_order_seq_cst)) continue;
      if (!w->sleeping.load(std::memory_order_seq_cst) || w->sleep_has_deadline.load(std::memory_order_relaxed) ||
          !w->runq.empty())
        return false;
    }
    return true;
  };
  const std::uint32_t epoch = idle_epoch_.load(std::memory_order_seq_cst);
  if (!calm()) {
    deadlock_since_ = 0;
    return false;
  }
  std::uint64_t finished = 0, spawned = external_spawned_.load(std::memory_order_acquire);
  for (auto& w : all_workers()) finished += w->finished.load(std::memory_order_acquire);
  for (auto& w : all_workers()) spawned += w->spawned.load(std::memory_order_acquire);
  if (spawned <= finished) {
    deadlock_since_ = 0;
    return false;
  }
  if (deadlock_since_ == 0 || epoch != deadlock_epoch_) {
    deadlock_since_ = now;
    deadlock_epoch_ = epoch;
    return false;
  }
  if (now - deadlock_since_ < kDeadlockGraceNs) return false;
  record_failure(std::make_exception_ptr(std::runtime_error(
      "all fibers are asleep \u2014 deadlock (" + std::to_string(spawned - finished) + " fibers parked)")));
  deadlock_since_ = 0;
  return true;
}

bool Scheduler::begin_blocking() {
  Worker* w = this_worker();
  if (w == nullptr || w->current == &w->g0) return false;
  w->enter();
  w->hand_off();
  w->leave();
  return true;
}

void Scheduler::end_blocking() {
  Worker* w = this_worker();  // the fiber may have moved: any worker it is on now is not stuck
  if (w == nullptr || w->current == &w->g0) return;
  w->enter();
  w->leave();
}

// ---- static entry points used by fibers and primitives ------------------------------------------------

std::uint64_t Scheduler::stack_evictions() const noexcept {
  std::uint64_t n = 0;
  for (auto& w : all_workers()) n += w->evictions.load(std::memory_order_acquire);
  return n;
}

Fiber* Scheduler::current_fiber() noexcept {
  Worker* w = this_worker();
  return (w == nullptr || w->current == &w->g0) ? nullptr : w->current;
}

void Scheduler::yield() {
  Worker* w = this_worker();
  if (w == nullptr || w->current == &w->g0) {
    std::this_thread::yield();
    return;
  }
  w->enter();
  Fiber* self = w->current;
  // A fiber back from a stretch stuck in the kernel yields to the global queue, behind the work that ran
  // meanwhile, as Go's exitsyscall puts a goroutine that lost its P (so blocking fibers do not crowd out
  // the others by coming straight back to the worker they stalled).
  const bool was_stuck = std::exchange(w->rejoined, false);
  Fiber* next = w->find_local_work();
  if (next == nullptr && was_stuck) next = w->steal(false);
  if (next == nullptr) {  // nothing else runnable here: keep running, but still check the stack
    check_on_switch_out(*self->stack, __builtin_frame_address(0));
    w->leave();
    return;
  }
  self->action = was_stuck ? SwitchAction::requeue_global : SwitchAction::requeue;
  w->switch_to(self, next);
}

void Scheduler::sleep_for(std::chrono::nanoseconds duration) {
  Worker* w = this_worker();
  if (w == nullptr || w->current == &w->g0) {
    std::this_thread::sleep_for(duration);
    return;
  }
  if (duration.count() <= 0) return yield();
  w->enter();
  Fiber* self = w->current;
  self->deadline_ns = now_ns() + duration.count();
  self->action = SwitchAction::sleep;
  Fiber* next = w->find_local_work();
  w->switch_to(self, next != nullptr ? next : &w->g0);
}

void Scheduler::park(SpinLock& lock) {
  Worker* w = this_worker();
  w->enter();
  Fiber* self = w->current;
  self->action = SwitchAction::unlock;
  self->action_arg = &lock;
  Fiber* next = w->find_local_work(/*may_poll=*/false);
  // `lock` stays held until the next fiber's side of the switch releases it. A fiber that has not started
  // yet and has no warm stack waiting in this worker's cache would take one from the pool (carving a slab:
  // mmap and mprotects, milliseconds) and fault in its first page under it, while every fiber of every
  // worker that wants the lock spins: it starts from g0 instead, after the release (memory-per-task, 2
  // workers: the spinners looked like hogs to the monitor). With a warm stack at hand (skynet's parents
  // waiting for the next child) it starts here: the detour cost skynet 100k 30%.
  if (next != nullptr && !next->started() && !w->warm_stack_at_hand()) {
    w->resume_next = next;
    next = nullptr;
  }
  w->switch_to(self, next != nullptr ? next : &w->g0);
}

void Scheduler::ready(Fiber* f) {
  Scheduler* s = f->scheduler;
  Worker* w = this_worker();
  bool to_runnext = w != nullptr && w->sched == s && w->current != &w->g0;
  if (Worker* home = Worker::home_of(f)) [[unlikely]] {  // copy policy: only its own worker may run it
    if (w != home && to_runnext) w->posted_away = true;
    if (w != home || !to_runnext) return home->post(f);
  }
  if (to_runnext) {
    // From fiber code, or from the scheduler on a fiber's stack (a poll inside yield): only the former
    // enters and leaves, so the scheduler's own work is never marked as fiber code.
    const bool from_user = w->in_user.load(std::memory_order_relaxed);
    if (from_user) w->enter();
    if (Fiber* displaced = w->runq.set_runnext(f)) {
      // A spawned fiber that never ran goes back on the spawn stack, not to the ring's tail, so a fork-join
      // tree stays depth first when answers wake their parents (skynet's children, displaced by every
      // answer, piled up in the FIFO ring).
      if (!displaced->started()) {
        w->push_spawned(displaced);
      } else {
        w->push_back(displaced);
        s->notify_work();
      }
    } else if (s->idle_workers() && w->runq.approx_size() > 1) [[unlikely]] {
      // More runnable here than this worker runs next, and a worker idle: wake it to steal (Go's wakep on
      // ready). A lone conversation (ring empty) wakes nobody, so one pair stays on one worker.
      s->notify_work();
    }
    if (from_user) w->leave();
    return;
  }
  if (w == nullptr || w->sched != s) s->plain_wakers_.store(true, std::memory_order_relaxed);
  s->push_global(f);
  s->notify_work();
}

void Scheduler::ready_all(IntrusiveStack<Fiber>& fibers) {
  if (fibers.size() <= 1) {
    if (Fiber* f = fibers.pop()) ready(f);
    return;
  }
  // One wait list belongs to one scheduler's fibers in practice; any stranger is readied on its own, and
  // so is a pinned copy fiber (it goes to its worker).
  Scheduler* s = nullptr;
  IntrusiveStack<Fiber> mine;
  while (Fiber* f = fibers.pop()) {
    if (Worker::home_of(f) != nullptr) {
      ready(f);
      continue;
    }
    if (s == nullptr) s = f->scheduler;
    if (f->scheduler == s) mine.push(f); else ready(f);
  }
  if (s == nullptr) return;
  s->push_global_batch(mine);
  s->notify_work();  // the woken spinner wakes the next one when it finds work (ramp-up)
}

}  // namespace spindle::fiber
