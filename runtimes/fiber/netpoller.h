// netpoller.h — Netpoller, the fiber runtime's epoll netpoller (Go's netpoll_epoll.go + pollDesc): one
// epoll instance and one eventfd per Scheduler; each socket registered once, edge-triggered, for both
// directions. A fiber whose socket op would block parks on the socket's PollDesc (one waiter per
// direction) until the poller sees readiness or its deadline passes. Polling itself is done by the
// scheduler's workers (scheduler.cpp: an idle worker blocks in `poll` — one at a time — and busy workers
// poll without blocking now and then); `interrupt` (the eventfd) breaks a blocked poll.
// The design is explained in README.md ("The netpoller").
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "runtimes/fiber/intrusive_stack.h"
#include "runtimes/fiber/spin_lock.h"

namespace spindle::fiber {

struct Fiber;
struct Waiter;
class Scheduler;

// PollDesc: one registered socket. Stable memory (chunks freed only by ~Netpoller) and a generation that
// changes on every close, so an epoll event still in flight for a closed socket is recognised and dropped.
struct PollDesc {
  static constexpr std::uint8_t kReady = 1, kTimedOut = 2;
  SpinLock lock;
  std::uint32_t slot = 0;
  std::uint32_t gen = 0;         // guarded by lock; the epoll data carries slot << 32 | gen
  int fd = -1;
  bool ready[2] = {};            // readiness seen while nobody waited (consumed by the next wait)
  Waiter* waiter[2] = {};        // the parked waiter per direction (0 read, 1 write)
  std::int64_t deadline_ns[2] = {};
  std::uint8_t result[2] = {};   // for the woken waiter: kReady or kTimedOut
  PollDesc* next_free = nullptr; // free list (guarded by the Netpoller's mutex)
  class Netpoller* owner = nullptr;
};

class Netpoller {
 public:
  static constexpr std::int64_t kNoDeadline = INT64_MAX;
  // kSweepNs: how often parked waiters' deadlines are checked (deadlines are a safety net: the case's
  // socket timeout; README "The netpoller").
  static constexpr std::int64_t kSweepNs = 50'000'000;

  Netpoller();
  ~Netpoller();
  Netpoller(const Netpoller&) = delete;
  Netpoller& operator=(const Netpoller&) = delete;

  // open: registers `fd` (already non-blocking). close: unregisters it (before the fd is closed); a waiter
  // still parked on it is woken as timed out.
  PollDesc* open(int fd);
  void close(PollDesc* pd);

  // wait: the caller (fiber or plain thread) waits until `pd` is ready in direction `write` or the
  // deadline passes (false). Fibers park; returns at once when readiness arrived since the last wait.
  bool wait(PollDesc* pd, bool write, std::int64_t deadline_ns);

  // poll: collects ready sockets and expired deadlines, waiting up to `timeout_ns` (0: do not block,
  // < 0: no timeout). Woken waiters are added to `fibers` (plain threads are woken directly). Returns true
  // when interrupted through the eventfd. Any number of non-blocking polls may run beside one blocking one.
  bool poll(std::int64_t timeout_ns, IntrusiveStack<Fiber>& fibers);
  // interrupt: makes a blocked (or the next) poll return at once.
  void interrupt() noexcept;

  // active: any socket registered (workers only poll then).
  bool active() const noexcept { return registered_.load(std::memory_order_relaxed) != 0; }
  // has_deadlines: some parked waiter has a deadline (polls then sweep every kSweepNs).
  bool has_deadlines() const noexcept { return deadline_waiters_.load(std::memory_order_relaxed) != 0; }

 private:
  PollDesc* desc(std::uint32_t slot) const noexcept;
  void sweep(std::int64_t now, IntrusiveStack<Fiber>& fibers);
  void take_waiter(PollDesc& pd, int dir, std::uint8_t result, IntrusiveStack<Fiber>& fibers);

  int epfd_ = -1;     // the sockets, edge-triggered
  int eventfd_ = -1;  // interrupt
  int waitfd_ = -1;   // what a blocking poll waits on: eventfd_ and epfd_
  std::atomic<bool> interrupt_pending_{false};
  std::atomic<std::int64_t> registered_{0};
  std::atomic<std::int64_t> deadline_waiters_{0};
  std::atomic<std::int64_t> next_sweep_ns_{0};

  static constexpr std::uint32_t kChunk = 1024, kMaxChunks = 4096;  // up to 4M sockets at once
  std::mutex mutex_;                                // guards free_, chunk growth
  PollDesc* free_ = nullptr;
  std::uint32_t slots_ = 0;
  std::unique_ptr<std::atomic<PollDesc*>[]> chunks_;  // kMaxChunks entries, each a PollDesc[kChunk]
};

}  // namespace spindle::fiber
