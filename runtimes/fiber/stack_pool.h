// stack_pool.h — fiber stacks: the StackPolicy choice, the Stack record, StackPool (pooled policy: stacks
// carved out of lazily committed mmap slabs, a guard page each (MADV_GUARD_INSTALL; where the kernel lacks
// it, mprotect while the mapping budget allows), zero canary beyond it, LIFO reuse) and SharedStack (one of a
// worker's guarded run stacks: copy policy, and pooled beyond max_pooled_stacks). Promises: a
// stack's memory costs only the pages touched; overflow ends the process with a message naming the size.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtimes/fiber/intrusive_stack.h"

namespace spindle::fiber {

// StackPolicy: where a fiber's frames live while it runs and while it is parked (README "Stacks").
// `pooled`: every started fiber has a stack of its own from a StackPool. `copy`: fibers run on their
// worker's SharedStack; when another fiber needs it, the used part of the resident fiber's stack is
// copied into a right-sized heap buffer, and copied back before that fiber resumes, at the same
// addresses, so a started copy fiber stays on its worker. Primitives never keep pointers into a parked
// fiber's stack (wait records live in the fiber's control block), so they work under either policy.
enum class StackPolicy { pooled, copy };

// parse_stack_policy: "" and "pooled" -> pooled; "copy" -> copy; anything else -> nullopt.
std::optional<StackPolicy> parse_stack_policy(std::string_view name);
const char* stack_policy_name(StackPolicy policy) noexcept;

// kDefaultStackSize: bytes per stack, guard page included (ASan's redzones need more room).
#if defined(SPINDLE_ASAN)
inline constexpr std::size_t kDefaultStackSize = 256 * 1024;
#else
inline constexpr std::size_t kDefaultStackSize = 64 * 1024;
#endif
inline constexpr std::size_t kMinStackSize = 16 * 1024;
// kDefaultSharedStackSize: a worker's shared run stack under `copy`, guard page included.
#if defined(SPINDLE_ASAN)
inline constexpr std::size_t kDefaultSharedStackSize = 1024 * 1024;
#else
inline constexpr std::size_t kDefaultSharedStackSize = 256 * 1024;
#endif
// kCanaryBytes: the lowest bytes of an unguarded stack, which must stay zero (untouched pages read as zero,
// so the canary costs no memory).
inline constexpr std::size_t kCanaryBytes = 64;

std::size_t page_size();

// Stack: one slice of a slab. [base, top()) is the usable slice, at least `size` bytes; a guard page
// (PROT_NONE) or the canary occupies its lowest bytes; frames grow down from top(). A pool's slices are a
// page longer than `size` and their tops are offset by a colour (StackPool::carve_slab), so the tops
// of many stacks do not all fall into the same cache sets.
struct Stack {
  Stack* link = nullptr;      // free lists (IntrusiveStack)
  char* base = nullptr;
  std::size_t size = 0;       // the size asked for (guard included); the slice may be larger (colouring)
  char* top_ = nullptr;       // where frames start: the slice's end, less this stack's colour
  bool guarded = false;
  bool shared = false;        // a worker's SharedStack (copy policy); the record is SharedStack::stack
  bool warm = false;          // a fiber ran on it before: its top page is committed
  void* tsan_fiber = nullptr; // ThreadSanitizer's fiber handle, made on first run (TSan builds only, pooled)

  char* top() const noexcept { return top_; }
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

// report_stack_overflow: writes the overflow message naming `stack_size` (and, for a shared stack, that it
// is the copy policy's per-worker run stack) and aborts.
[[noreturn]] void report_stack_overflow(std::size_t stack_size, bool guarded, bool shared = false) noexcept;

// SharedStack: one worker's run stack under the copy policy: its own mapping (MAP_NORESERVE, pages
// committed on first touch) with a guard page at the bottom. `owner` is the worker it belongs to.
struct SharedStack {
  Stack stack;             // first member: a Stack* with `shared` set points here
  void* owner = nullptr;   // the Worker (scheduler.cpp) this stack belongs to
  int slot = 0;            // which of the owner's run stacks this is

  explicit SharedStack(std::size_t size);  // size rounded up to pages, at least kMinStackSize
  ~SharedStack();
  SharedStack(const SharedStack&) = delete;
  SharedStack& operator=(const SharedStack&) = delete;
  static SharedStack& of(Stack& s) noexcept { return *reinterpret_cast<SharedStack*>(&s); }
};

// GuardBudget: process-wide count of mprotect guard pages still allowed (the fallback where the kernel has
// no MADV_GUARD_INSTALL, whose guards cost no mapping). Each such guard page splits a mapping in two,
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
  // out: stacks handed out and not given back (workers' caches of free stacks count as out). Any thread.
  std::size_t out() const noexcept { return out_.load(std::memory_order_relaxed); }
  std::size_t stacks_created() const;
  std::size_t guarded_stacks() const;
  std::size_t slabs() const;

 private:
  void carve_slab(std::size_t index);

  const std::size_t stack_size_;
  const bool guard_pages_;
  mutable std::mutex mutex_;
  IntrusiveStack<Stack> free_;                  // guarded by mutex_
  std::vector<std::pair<char*, std::size_t>> slabs_;  // guarded by mutex_
  std::vector<std::vector<Stack>> records_;     // guarded by mutex_; Stack records, stable addresses
  std::size_t created_ = 0, guarded_ = 0;       // guarded by mutex_
  std::size_t budget_guards_ = 0;               // guarded by mutex_: guards made by mprotect, within GuardBudget
  std::size_t slabs_reserved_ = 0;              // guarded by mutex_: slabs being carved or carved (sizes them)
  std::atomic<std::size_t> out_{0};             // written under mutex_
};

}  // namespace spindle::fiber
