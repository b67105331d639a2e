// waiter.h — Waiter, the record a blocked caller leaves in a primitive's wait list, and WaitRecord, which
// decides where it lives: in the parked fiber's control block (Fiber::scratch, never on a fiber stack), on
// the heap if too big, or on a plain thread's own stack (threads are never moved). Also WaitList (FIFO).
// Promises: a fiber parks through Scheduler::park, a plain thread sleeps on a futex; wake() is the same call.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "runtimes/fiber/futex.h"
#include "runtimes/fiber/scheduler.h"
#include "runtimes/fiber/spin_lock.h"

namespace spindle::fiber {

// ThreadParker: one per plain thread, for the thread's whole life (so a late futex_wake hits live memory).
class ThreadParker {
 public:
  static ThreadParker& current() {
    thread_local ThreadParker parker;
    return parker;
  }
  void prepare() noexcept { state_.store(0, std::memory_order_relaxed); }
  void wait() noexcept {
    while (state_.load(std::memory_order_acquire) == 0) futex_wait(state_, 0);
  }
  // unpark: release; pairs with wait's acquire.
  void unpark() noexcept {
    state_.store(1, std::memory_order_release);
    futex_wake(state_, 1);
  }

 private:
  std::atomic<std::uint32_t> state_{0};
};

struct Waiter {
  explicit Waiter(Fiber* f) : fiber(f), parker(f ? nullptr : &ThreadParker::current()) {
    if (parker) parker->prepare();
  }
  Waiter* next = nullptr;
  Fiber* fiber;          // the parked fiber, or null for a plain thread
  ThreadParker* parker;  // the plain thread's parker

  // block: the caller holds `lock` and has linked this record into a list `lock` guards. Returns after
  // wake(); `lock` is no longer held.
  void block(SpinLock& lock) {
    if (fiber) {
      Scheduler::park(lock);
    } else {
      lock.unlock();
      parker->wait();
    }
  }
  // wake: the waker has unlinked this record (under the lock) and written its result. After this call
  // the record may be gone, so it reads its fields first.
  void wake() {
    Fiber* f = fiber;
    ThreadParker* p = parker;
    if (f) Scheduler::ready(f); else p->unpark();
  }
};

// WaitList: FIFO of W (derived from Waiter) linked through Waiter::next. Guarded by its owner's lock.
template <class W>
class WaitList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  void push(W* w) noexcept {
    w->next = nullptr;
    if (tail_) tail_->next = w; else head_ = w;
    tail_ = w;
  }
  W* pop() noexcept {
    W* w = head_;
    if (w) {
      head_ = static_cast<W*>(w->next);
      if (!head_) tail_ = nullptr;
    }
    return w;
  }
  // take_all: empties the list, returning its former head (walk with `next`, read `next` before waking).
  W* take_all() noexcept {
    W* w = head_;
    head_ = tail_ = nullptr;
    return w;
  }

 private:
  W* head_ = nullptr;
  W* tail_ = nullptr;
};

// wake_all: wakes every record of a list taken with take_all. Fibers are readied as one batch.
template <class W>
void wake_all(W* w) {
  IntrusiveStack<Fiber> fibers;
  while (w) {
    W* next = static_cast<W*>(w->next);
    if (w->fiber) fibers.push(w->fiber); else w->wake();
    w = next;
  }
  Scheduler::ready_all(fibers);
}

// WaitRecord<W>: owns one W constructed where it stays valid while its owner is blocked.
template <class W>
class WaitRecord {
 public:
  WaitRecord() {
    Fiber* f = Scheduler::current_fiber();
    if (f == nullptr) {
      record_ = &local_.emplace(nullptr);
    } else if constexpr (sizeof(W) <= Fiber::kScratch && alignof(W) <= 16) {
      record_ = f->emplace_scratch<W>(f);
      in_scratch_ = true;
    } else {
      heap_ = std::make_unique<W>(f);
      record_ = heap_.get();
    }
  }
  ~WaitRecord() {
    if (in_scratch_) record_->~W();
  }
  WaitRecord(const WaitRecord&) = delete;
  WaitRecord& operator=(const WaitRecord&) = delete;
  W* get() const noexcept { return record_; }
  W* operator->() const noexcept { return record_; }

 private:
  W* record_ = nullptr;
  bool in_scratch_ = false;
  std::optional<W> local_;
  std::unique_ptr<W> heap_;
};

}  // namespace spindle::fiber
