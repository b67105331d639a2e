// fiber.h — Fiber, the control block of one task: its closure (stored inline when small), its saved
// context, its stack once started, the switch bookkeeping the scheduler needs, and a scratch area where the
// primitives put the fiber's wait record, and (copy policy) the heap copy of its evicted stack. Promises: a
// control block never lives on a fiber stack, so wait records in `scratch` stay valid whatever the stack
// policy does with a parked fiber's stack.
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
  requeue_global,  // yield after a stretch stuck in the kernel: the global queue (Go's exitsyscall)
  unlock,   // park: release the SpinLock in `action_arg`, which guards the wait list holding the leaver
  sleep,    // sleep_for: add the leaver to this worker's timer heap at `deadline_ns`
  finish,   // the leaver's task returned: recycle its stack and control block
};

// Fiber is 176 bytes outside sanitizer builds (README "Memory per parked fiber"): a million parked copy
// fibers cost their control blocks plus their evicted stacks, nothing else.
struct alignas(16) Fiber {
  static constexpr std::size_t kInlineClosure = 48;
  static constexpr std::size_t kScratch = 64;
  // kPrivateStack: runs on a pooled stack of its own (every fiber under `pooled`; run()'s root under `copy`);
  // otherwise on one of its worker's run stacks. kMayUseRunStack: a `pooled` fiber that, started while the
  // pool holds more than Config::max_pooled_stacks, runs on a run stack instead (README "Run stacks under
  // pooled").
  enum Flags : std::uint8_t { kPrivateStack = 1, kMayUseRunStack = 2 };
  enum class ClosureOp : std::uint8_t { invoke, destroy };

  Fiber* link = nullptr;  // intrusive link: run queues, the global queue, free lists, inboxes
  boost::context::detail::fcontext_t context = nullptr;  // saved context (its stack pointer); null until started
  Stack* stack = nullptr;                                // null until started (and for g0)
  Scheduler* scheduler = nullptr;
  void (*closure_op)(Fiber&, ClosureOp) = nullptr;  // runs or destroys the closure
  union {
    void* action_arg = nullptr;  // unlock: the SpinLock to release
    std::int64_t deadline_ns;    // sleep: when to wake
  };
  char* saved = nullptr;          // copy policy: heap copy of the evicted stack (malloc; capacity = usable size)
  std::uint32_t saved_size = 0;   // copy policy: bytes in `saved`: [context, stack top)
  SwitchAction action = SwitchAction::none;
  std::uint8_t flags = 0;
  static constexpr std::uint16_t kSavedUnitsMax = 0xFFFF;
  std::uint16_t saved_units = 0;  // copy policy: `saved`'s capacity / 16; kSavedUnitsMax: ask malloc
#if defined(SPINDLE_ASAN)
  void* asan_fake_stack = nullptr;  // ASan's fake-stack handle while switched out
#endif
#if defined(SPINDLE_TSAN)
  void* tsan_fiber = nullptr;  // TSan's fiber handle under the copy policy (pooled keeps it in the Stack)
#endif
  alignas(16) unsigned char closure[kInlineClosure];
  alignas(16) unsigned char scratch[kScratch];  // the fiber's wait record while it is parked

  // set_closure: stores `f` inline when it fits, on the heap otherwise.
  template <class F>
  void set_closure(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (sizeof(Fn) <= kInlineClosure && alignof(Fn) <= 16 && std::is_nothrow_move_constructible_v<Fn>) {
      ::new (static_cast<void*>(closure)) Fn(std::forward<F>(f));
      closure_op = [](Fiber& self, ClosureOp op) {
        Fn* fn = std::launder(reinterpret_cast<Fn*>(self.closure));
        if (op == ClosureOp::invoke) (*fn)(); else fn->~Fn();
      };
    } else {
      Fn* heap = new Fn(std::forward<F>(f));
      ::new (static_cast<void*>(closure)) Fn*(heap);
      closure_op = [](Fiber& self, ClosureOp op) {
        Fn* fn = *std::launder(reinterpret_cast<Fn**>(self.closure));
        if (op == ClosureOp::invoke) (*fn)(); else delete fn;
      };
    }
  }
  void invoke_closure() { closure_op(*this, ClosureOp::invoke); }
  void destroy_closure() noexcept { closure_op(*this, ClosureOp::destroy); }
  bool has_closure() const noexcept { return closure_op != nullptr; }
  bool started() const noexcept { return context != nullptr; }

  // scratch_as: the wait record of type W, constructed in `scratch`. W must fit (checked at compile time).
  template <class W, class... Args>
  W* emplace_scratch(Args&&... args) {
    static_assert(sizeof(W) <= kScratch && alignof(W) <= 16, "wait record too large for Fiber::scratch");
    return ::new (static_cast<void*>(scratch)) W(std::forward<Args>(args)...);
  }
};
#if !defined(SPINDLE_ASAN) && !defined(SPINDLE_TSAN)
static_assert(sizeof(Fiber) == 176, "Fiber grew: memory-per-task's copy figure depends on it (README)");
#endif

}  // namespace spindle::fiber
