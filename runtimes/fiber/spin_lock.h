// spin_lock.h — SpinLock, the short-critical-section lock that guards every wait list in the fiber runtime
// (channels, wait groups, mutexes). Promises: test-and-test-and-set with a pause, then sched_yield after a
// bounded spin so a preempted holder cannot starve its waiters; holders never park while holding it
// (a parking fiber releases it only after its context is saved, see scheduler.h `park`).
#pragma once

#include <sched.h>

#include <atomic>

namespace spindle::fiber {

inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class SpinLock {
 public:
  // lock: acquire; pairs with unlock's release store.
  void lock() noexcept {
    for (int spins = 0;; ++spins) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins++ < 128) spin_pause(); else sched_yield();
      }
    }
  }
  bool try_lock() noexcept { return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire); }
  // unlock: release; everything written under the lock is visible to the next holder.
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace spindle::fiber
