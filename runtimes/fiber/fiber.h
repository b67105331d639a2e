// fiber.h — Fiber, the control block of one task: its closure (stored inline when small), its saved
// context, its stack once started, the switch bookkeeping the scheduler needs, and a scratch area where the
// primitives put the fiber's wait record. Promises: a control block never lives on a fiber stack, so wait
// records in `scratch` stay valid whatever the stack policy does with a parked fiber's stack.
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace spindle::fiber {

class Scheduler;
struct Stack;

// SwitchAction: what the fiber that resumes next must do for the fiber that just left, once the leaver's
// context is saved. A fiber becomes visible to other threads (run queues, wait lists, timers) only through
// one of these, which is why no one can resume a fiber whose context is not saved yet.
enum class SwitchAction : std::uint8_t {
  none,     // the leaver is g0 (a worker's own thread context) or already accounted for
  requeue,  // yield: put the leaver at the tail of this worker's run queue
  unlock,   // park: release the SpinLock in `action_arg`, which guards the wait list holding the leaver
  sleep,    // sleep_for: add the leaver to this worker's timer heap at `deadline_ns`
  finish,   // the leaver's task returned: recycle its stack and control block
};

struct alignas(64) Fiber {
  static constexpr std::size_t kInlineClosure = 48;
  static constexpr std::size_t kScratch = 64;

  Fiber* link = nullptr;  // intrusive link: run queues, the global queue, free lists
  boost::context::detail::fcontext_t context = nullptr;  // saved context; null until started
  Stack* stack = nullptr;                                // null until started (and for g0)
  Scheduler* scheduler = nullptr;
  void (*invoke)(Fiber&) = nullptr;   // runs the closure
  void (*destroy)(Fiber&) = nullptr;  // destroys the closure
  SwitchAction action = SwitchAction::none;
  void* action_arg = nullptr;
  std::int64_t deadline_ns = 0;
  void* asan_fake_stack = nullptr;  // ASan's fake-stack handle while switched out
  alignas(16) unsigned char closure[kInlineClosure];
  alignas(16) unsigned char scratch[kScratch];  // the fiber's wait record while it is parked

  // set_closure: stores `f` inline when it fits, on the heap otherwise.
  template <class F>
  void set_closure(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (sizeof(Fn) <= kInlineClosure && alignof(Fn) <= 16 && std::is_nothrow_move_constructible_v<Fn>) {
      ::new (static_cast<void*>(closure)) Fn(std::forward<F>(f));
      invoke = [](Fiber& self) { (*std::launder(reinterpret_cast<Fn*>(self.closure)))(); };
      destroy = [](Fiber& self) { std::launder(reinterpret_cast<Fn*>(self.closure))->~Fn(); };
    } else {
      Fn* heap = new Fn(std::forward<F>(f));
      ::new (static_cast<void*>(closure)) Fn*(heap);
      invoke = [](Fiber& self) { (**std::launder(reinterpret_cast<Fn**>(self.closure)))(); };
      destroy = [](Fiber& self) { delete *std::launder(reinterpret_cast<Fn**>(self.closure)); };
    }
  }
  bool started() const noexcept { return context != nullptr; }

  // scratch_as: the wait record of type W, constructed in `scratch`. W must fit (checked at compile time).
  template <class W, class... Args>
  W* emplace_scratch(Args&&... args) {
    static_assert(sizeof(W) <= kScratch && alignof(W) <= 16, "wait record too large for Fiber::scratch");
    return ::new (static_cast<void*>(scratch)) W(std::forward<Args>(args)...);
  }
};

}  // namespace spindle::fiber
