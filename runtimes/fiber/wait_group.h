// wait_group.h — WaitGroup (Go's sync.WaitGroup) and Mutex for fibers and plain threads. Promises:
// WaitGroup::done is one atomic decrement unless it reaches zero; Mutex::lock's uncontended path is one
// CAS and a contended unlock hands ownership straight to the first waiter (FIFO, no barging past waiters).
#pragma once

#include <atomic>
#include <cstdint>

#include "runtimes/fiber/spin_lock.h"
#include "runtimes/fiber/waiter.h"

namespace spindle::fiber {

class WaitGroup {
 public:
  // add: acq_rel; the decrement that reaches zero wakes every waiter.
  void add(std::int64_t delta) {
    if (count_.fetch_add(delta, std::memory_order_acq_rel) + delta == 0) release_waiters();
  }
  void done() { add(-1); }
  // wait: returns once the count is zero; the acquire pairs with add's release.
  void wait() {
    if (count_.load(std::memory_order_acquire) == 0) return;
    lock_.lock();
    if (count_.load(std::memory_order_acquire) == 0) {
      lock_.unlock();
      return;
    }
    WaitRecord<Waiter> record;
    waiters_.push(record.get());
    record->block(lock_);
  }

 private:
  void release_waiters() {
    lock_.lock();
    Waiter* all = waiters_.take_all();
    lock_.unlock();
    wake_all(all);
  }

  std::atomic<std::int64_t> count_{0};
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

  void unlock() {
    std::uint32_t expected = kLocked;
    if (state_.compare_exchange_strong(expected, 0, std::memory_order_release)) return;
    lock_.lock();
    Waiter* next = waiters_.pop();
    if (next == nullptr) {
      state_.store(0, std::memory_order_release);
      lock_.unlock();
      return;
    }
    state_.store(waiters_.empty() ? kLocked : kContended, std::memory_order_release);
    lock_.unlock();
    next->wake();  // ownership passes to `next`; the wake's synchronization publishes our writes
  }

 private:
  static constexpr std::uint32_t kLocked = 1, kContended = 2;
  std::atomic<std::uint32_t> state_{0};  // 0 free, 1 locked, 2 locked and maybe waiters
  SpinLock lock_;
  WaitList<Waiter> waiters_;  // guarded by lock_
};

}  // namespace spindle::fiber
