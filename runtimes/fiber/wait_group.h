// wait_group.h — WaitGroup (Go's sync.WaitGroup) and Mutex for fibers and plain threads. Promises:
// WaitGroup::done is one atomic RMW unless it reaches zero with waiters registered; Mutex::lock's
// uncontended path is one CAS and a contended unlock hands ownership straight to the first waiter (FIFO,
// no barging past waiters). Both may be destroyed as soon as the caller's wait()/lock() returned: no
// done()/unlock() touches the object after the access that let a waiter return (README "Lifetime").
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "runtimes/fiber/spin_lock.h"
#include "runtimes/fiber/waiter.h"

namespace spindle::fiber {

#if defined(SPINDLE_FIBER_TEST_HOOKS)
namespace test_hooks {
// after_wait_group_zero: called by WaitGroup::add right after the decrement that reached zero, before
// anything else; tests use it to let a waiter return and destroy the group at exactly that point.
inline void (*after_wait_group_zero)(void* group) = nullptr;
}  // namespace test_hooks
#endif

class WaitGroup {
 public:
  // add: acq_rel on the one state word. The counter is its high 32 bits, the number of registered
  // waiters its low 32 (Go's layout): the decrement that reaches zero learns in the same RMW whether anyone
  // is registered, and when no one is, it returns without touching *this again.
  void add(std::int64_t delta) {
    if (delta < INT32_MIN || delta > INT32_MAX) fail("WaitGroup::add: delta out of the 32-bit counter's range");
    const std::uint64_t step = static_cast<std::uint64_t>(delta) << 32;
    const std::uint64_t now = state_.fetch_add(step, std::memory_order_acq_rel) + step;
#if defined(SPINDLE_FIBER_TEST_HOOKS)
    if (counter(now) == 0 && test_hooks::after_wait_group_zero) test_hooks::after_wait_group_zero(this);
#endif
    if (counter(now) < 0) fail("WaitGroup: negative counter (more done() than add())");
    if (counter(now) > 0 || waiters(now) == 0) return;
    release_waiters();  // every registered waiter is parked until we wake it, so *this is alive
  }
  void done() { add(-1); }

  // wait: returns once the counter is zero; the acquire pairs with add's release. A waiter registers (low
  // half + 1) only under lock_ and keeps lock_ until its record is in the list (released by the park).
  void wait() {
    if (counter(state_.load(std::memory_order_acquire)) == 0) return;
    lock_.lock();
    std::uint64_t s = state_.load(std::memory_order_acquire);
    do {
      if (counter(s) == 0) {
        lock_.unlock();
        return;
      }
    } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire));
    WaitRecord<Waiter> record;
    waiters_.push(record.get());
    record->block(lock_);
  }

 private:
  static std::int32_t counter(std::uint64_t state) noexcept { return static_cast<std::int32_t>(state >> 32); }
  static std::uint32_t waiters(std::uint64_t state) noexcept { return static_cast<std::uint32_t>(state); }
  [[noreturn]] static void fail(const char* what) {
    std::fprintf(stderr, "spindle fiber: %s\n", what);
    std::abort();
  }

  // release_waiters: the counter is zero and waiters are registered. Taking lock_ waits for the last of
  // them to finish parking; the waiter count is cleared before lock_ is released, and the records are
  // woken after it: from then on nothing of *this is touched (wake reads only the records).
  void release_waiters() {
    lock_.lock();
    Waiter* all = waiters_.take_all();
    state_.fetch_and(~std::uint64_t{0xFFFFFFFF}, std::memory_order_relaxed);
    lock_.unlock();
    wake_all(all);
  }

  std::atomic<std::uint64_t> state_{0};  // counter << 32 | registered waiters
  SpinLock lock_;
  WaitList<Waiter> waiters_;  // guarded by lock_
};

class Mutex {
 public:
  void lock() {
    std::uint32_t expected = 0;
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire)) return;
    for (int i = 0; i < 64; ++i) {
      spin_pause();
      expected = 0;
      if (state_.load(std::memory_order_relaxed) == 0 &&
          state_.compare_exchange_weak(expected, kLocked, std::memory_order_acquire))
        return;
    }
    lock_.lock();
    if (state_.exchange(kContended, std::memory_order_acquire) == 0) {
      lock_.unlock();
      return;
    }
    WaitRecord<Waiter> record;
    waiters_.push(record.get());
    record->block(lock_);  // on return we own the mutex (handed over by unlock)
  }

  bool try_lock() {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire);
  }

  // unlock: the store that frees the mutex is always our last access (a CAS to 0 outside lock_): once it
  // is free, another thread may lock, unlock and destroy it. With no waiter found under lock_ we stay the
  // owner, drop lock_, and try the release again (a waiter that came meanwhile makes the CAS fail).
  void unlock() {
    for (;;) {
      std::uint32_t expected = kLocked;
      if (state_.compare_exchange_strong(expected, 0, std::memory_order_release)) return;
      lock_.lock();
      Waiter* next = waiters_.pop();
      if (next != nullptr) {
        state_.store(waiters_.empty() ? kLocked : kContended, std::memory_order_release);
        lock_.unlock();
        next->wake();  // ownership passes to `next`; the wake's synchronization publishes our writes
        return;
      }
      state_.store(kLocked, std::memory_order_relaxed);  // still ours: no waiter after all
      lock_.unlock();
    }
  }

 private:
  static constexpr std::uint32_t kLocked = 1, kContended = 2;
  std::atomic<std::uint32_t> state_{0};  // 0 free, 1 locked, 2 locked and maybe waiters
  SpinLock lock_;
  WaitList<Waiter> waiters_;  // guarded by lock_
};

}  // namespace spindle::fiber
