// run_queue.h — RunQueue, one worker's local queue of runnable fibers: a 256-slot lock-free ring plus a
// `runnext` slot (Go's runq/runnext). Only the owning worker pushes; the owner and thieves pop from the head
// with a CAS; a thief takes half the ring in one CAS. Promises: no allocation, no lock, FIFO for the ring.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "runtimes/fiber/fiber.h"
#include "runtimes/fiber/intrusive_stack.h"

namespace spindle::fiber {

class RunQueue {
 public:
  static constexpr std::uint32_t kCapacity = 256;

  // push_back: owner only. Returns false when the ring is full (the caller moves half of it to the global
  // queue with take_half_for_overflow). The release store of tail_ publishes the slot to poppers and thieves.
  bool push_back(Fiber* f) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);  // synchronizes with consumers' CAS
    std::uint32_t t = tail_.load(std::memory_order_relaxed);  // only the owner writes tail_
    if (t - h >= kCapacity) return false;
    slots_[t % kCapacity].store(f, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  // set_runnext: owner only. Makes `f` the next fiber this worker runs; returns the fiber it displaced
  // (which the caller must push_back) or null.
  Fiber* set_runnext(Fiber* f) noexcept { return runnext_.exchange(f, std::memory_order_acq_rel); }

  // pop: owner only. runnext first, then the ring head.
  Fiber* pop() noexcept {
    if (Fiber* f = pop_runnext()) return f;
    return pop_ring();
  }

  // pop_runnext: owner only; the exchange races only with a thief taking runnext.
  Fiber* pop_runnext() noexcept {
    if (runnext_.load(std::memory_order_relaxed) == nullptr) return nullptr;
    return runnext_.exchange(nullptr, std::memory_order_acquire);
  }

  Fiber* pop_ring() noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      Fiber* f = slots_[h % kCapacity].load(std::memory_order_relaxed);
      // acq_rel: orders the slot read before the slot can be reused by a later push.
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return f;
    }
  }

  // take_half_for_overflow: owner only, when push_back failed. Moves half the ring into `out`.
  bool take_half_for_overflow(IntrusiveStack<Fiber>& out) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    std::uint32_t n = (t - h) / 2;
    if (n == 0) return false;
    Fiber* batch[kCapacity / 2];
    for (std::uint32_t i = 0; i < n; ++i) batch[i] = slots_[(h + i) % kCapacity].load(std::memory_order_relaxed);
    if (!head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel, std::memory_order_relaxed)) return false;
    for (std::uint32_t i = n; i-- > 0;) out.push(batch[i]);
    return true;
  }

  // steal_into: a thief (any other worker, whose own ring is empty) takes half of this ring, and this
  // worker's runnext when the ring is empty and `take_runnext` is set. Returns one stolen fiber to run now
  // and puts the rest into `dst` (the thief's own queue).
  Fiber* steal_into(RunQueue& dst, bool take_runnext) noexcept {
    std::uint32_t dt = dst.tail_.load(std::memory_order_relaxed);
    std::uint32_t n = grab(dst, dt, take_runnext);
    if (n == 0) return nullptr;
    --n;
    Fiber* f = dst.slots_[(dt + n) % kCapacity].load(std::memory_order_relaxed);
    if (n != 0) dst.tail_.store(dt + n, std::memory_order_release);
    return f;
  }

  // approx_size: any thread; a snapshot that may be stale.
  std::uint32_t approx_size() const noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_acquire);
    return (t - h) + (runnext_.load(std::memory_order_acquire) != nullptr ? 1 : 0);
  }
  bool empty() const noexcept { return approx_size() == 0; }

 private:
  std::uint32_t grab(RunQueue& dst, std::uint32_t dt, bool take_runnext) noexcept {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_acquire);  // synchronizes with the owner's release
      std::uint32_t n = t - h;
      n = n - n / 2;
      if (n == 0) {
        if (take_runnext) {
          if (Fiber* next = runnext_.load(std::memory_order_acquire)) {
            if (runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
              dst.slots_[dt % kCapacity].store(next, std::memory_order_relaxed);
              return 1;
            }
          }
        }
        return 0;
      }
      if (n > kCapacity / 2) continue;  // inconsistent h/t snapshot; retry
      for (std::uint32_t i = 0; i < n; ++i)
        dst.slots_[(dt + i) % kCapacity].store(slots_[(h + i) % kCapacity].load(std::memory_order_relaxed),
                                               std::memory_order_relaxed);
      if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel, std::memory_order_relaxed)) return n;
    }
  }

  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  std::atomic<Fiber*> runnext_{nullptr};
  std::array<std::atomic<Fiber*>, kCapacity> slots_{};
};

}  // namespace spindle::fiber
