// stack_pool.h — fiber stacks: the StackPolicy seam, the Stack record and StackPool, which carves stacks out
// of lazily committed mmap slabs, puts a guard page under each stack while the kernel's mapping budget
// allows and a zero canary under the rest, and reuses stacks LIFO. Promises: a stack's memory costs only
// the pages a fiber touched; overflow ends the process with a message naming the stack size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtimes/fiber/intrusive_stack.h"

namespace spindle::fiber {

// StackPolicy: where a fiber's frames live while it runs and while it is parked. `pooled` gives every
// started fiber a stack of its own from a StackPool. The seam for issue 8's `copy` policy (one shared
// run stack per worker, the used part copied out on park) is the pair of hooks in Worker::switch_to
// (scheduler.cpp) that call `check_on_switch_out`; a copy policy adds copy-out/copy-in there. Primitives
// never keep pointers into a parked fiber's stack (wait records live in the fiber's control block), so
// they stay valid under either policy.
enum class StackPolicy { pooled };

// parse_stack_policy: "" and "pooled" -> pooled; anything else (including "copy", not yet built) -> nullopt.
std::optional<StackPolicy> parse_stack_policy(std::string_view name);

// kDefaultStackSize: bytes per stack, guard page included (ASan's redzones need more room).
#if defined(SPINDLE_ASAN)
inline constexpr std::size_t kDefaultStackSize = 256 * 1024;
#else
inline constexpr std::size_t kDefaultStackSize = 64 * 1024;
#endif
inline constexpr std::size_t kMinStackSize = 16 * 1024;
// kCanaryBytes: the lowest bytes of an unguarded stack, which must stay zero (untouched pages read as zero,
// so the canary costs no memory).
inline constexpr std::size_t kCanaryBytes = 64;

std::size_t page_size();

// Stack: one slice of a slab. [base, base + size) is the slice; a guard page (PROT_NONE) or the canary
// occupies its lowest bytes; frames grow down from top().
struct Stack {
  Stack* link = nullptr;      // free lists (IntrusiveStack)
  char* base = nullptr;
  std::size_t size = 0;
  bool guarded = false;
  void* tsan_fiber = nullptr; // ThreadSanitizer's fiber handle, made on first run (TSan builds only)

  char* top() const noexcept { return base + size; }
  // bottom: the lowest byte a frame may use.
  char* bottom() const noexcept { return base + (guarded ? page_size() : kCanaryBytes); }
  std::size_t usable() const noexcept { return static_cast<std::size_t>(top() - bottom()); }
};

// check_on_switch_out: called by the scheduler when a fiber leaves `stack` (switch or finish) with the
// fiber's current stack pointer. Ends the process with a clear message if the fiber overflowed.
void check_canary_stack(const Stack& stack, const void* sp) noexcept;
inline void check_on_switch_out(const Stack& stack, const void* sp) noexcept {
  if (!stack.guarded) [[unlikely]] check_canary_stack(stack, sp);  // guarded stacks fault on the guard page
}

// report_stack_overflow: writes the overflow message naming `stack_size` and aborts.
[[noreturn]] void report_stack_overflow(std::size_t stack_size, bool guarded) noexcept;

// GuardBudget: process-wide count of guard pages still allowed. Each guard page splits a mapping in two,
// costing up to 2 of the kernel's vm.max_map_count mappings; the budget is
// (max_map_count - mappings in use at first call - margin) / 2, margin = max(4096, max_map_count / 8).
class GuardBudget {
 public:
  static bool take() noexcept;
  static void give_back(std::size_t n) noexcept;
  static long remaining() noexcept;
  static long initial() noexcept;
};

class StackPool {
 public:
  struct Options {
    std::size_t stack_size = kDefaultStackSize;  // rounded up to pages, at least kMinStackSize
    bool guard_pages = true;                     // false: canaries only (tests of the canary path)
  };

  explicit StackPool(Options options);
  ~StackPool();  // unmaps every slab; stacks still in use are abandoned with it
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  // take: `n` stacks (at least one), reused ones first. Thread-safe.
  IntrusiveStack<Stack> take(std::size_t n);
  // give: returns stacks for reuse. Thread-safe.
  void give(IntrusiveStack<Stack>& stacks);

  std::size_t stack_size() const noexcept { return stack_size_; }
  std::size_t stacks_created() const;
  std::size_t guarded_stacks() const;
  std::size_t slabs() const;

 private:
  void carve_slab_locked();

  const std::size_t stack_size_;
  const bool guard_pages_;
  mutable std::mutex mutex_;
  IntrusiveStack<Stack> free_;                  // guarded by mutex_
  std::vector<std::pair<char*, std::size_t>> slabs_;  // guarded by mutex_
  std::vector<std::vector<Stack>> records_;     // guarded by mutex_; Stack records, stable addresses
  std::size_t created_ = 0, guarded_ = 0;       // guarded by mutex_
};

}  // namespace spindle::fiber
