// stack_pool.cpp — StackPool and GuardBudget: slabs mmap'd with MAP_NORESERVE (pages committed on first
// touch), slab capacity doubling from 64 stacks so a million stacks take a few dozen mappings, guard pages
// while the process-wide budget lasts, zero canaries after that.
#include "runtimes/fiber/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>

#if defined(SPINDLE_TSAN)
#include <sanitizer/tsan_interface.h>
#endif
#if defined(SPINDLE_ASAN)
#include <sanitizer/asan_interface.h>
#define SPINDLE_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SPINDLE_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace spindle::fiber {

std::optional<StackPolicy> parse_stack_policy(std::string_view name) {
  if (name.empty() || name == "pooled") return StackPolicy::pooled;
  if (name == "copy") return StackPolicy::copy;
  return std::nullopt;
}

const char* stack_policy_name(StackPolicy policy) noexcept {
  return policy == StackPolicy::copy ? "copy" : "pooled";
}

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

namespace {

long read_long_file(const char* path, long fallback) {
  std::ifstream in(path);
  long value = 0;
  return (in >> value) ? value : fallback;
}

long count_mappings() {
  std::ifstream in("/proc/self/maps");
  long lines = 0;
  std::string line;
  while (std::getline(in, line)) ++lines;
  return lines;
}

std::atomic<long>& budget_word() {
  static std::atomic<long> budget = [] {
    long max_maps = read_long_file("/proc/sys/vm/max_map_count", 65530);
    long margin = std::max(4096L, max_maps / 8);
    return std::max(0L, (max_maps - count_mappings() - margin) / 2);
  }();
  return budget;
}

long& initial_budget() {
  static long initial = budget_word().load();
  return initial;
}

// install_guard: a guard page by MADV_GUARD_INSTALL (Linux 6.13): a page-table marker that faults like
// PROT_NONE but splits no mapping and takes the mmap lock only for reading. An mprotect per stack split
// the slab's mapping in two each time under the lock's write side, while other workers' page faults
// waited for it: with a fresh runtime per repetition, skynet 1M on 2 workers spent a tenth of its time in
// rwsem_spin_on_owner and ran no faster than on one. False where the kernel lacks it (then mprotect,
// within GuardBudget).
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
bool install_guard(char* page) noexcept {
  static std::atomic<bool> unsupported{false};
  if (unsupported.load(std::memory_order_relaxed)) return false;
  if (madvise(page, page_size(), MADV_GUARD_INSTALL) == 0) return true;
  if (errno == EINVAL) unsupported.store(true, std::memory_order_relaxed);
  return false;
}

}  // namespace

bool GuardBudget::take() noexcept {
  initial_budget();
  auto& b = budget_word();
  long v = b.load(std::memory_order_relaxed);
  while (v > 0)
    if (b.compare_exchange_weak(v, v - 1, std::memory_order_relaxed)) return true;
  return false;
}
void GuardBudget::give_back(std::size_t n) noexcept { budget_word().fetch_add(static_cast<long>(n), std::memory_order_relaxed); }
long GuardBudget::remaining() noexcept { return budget_word().load(std::memory_order_relaxed); }
long GuardBudget::initial() noexcept { return initial_budget(); }

[[noreturn]] void report_stack_overflow(std::size_t stack_size, bool guarded, bool shared) noexcept {
  char msg[384];
  int n = std::snprintf(msg, sizeof msg,
                        "spindle fiber: stack overflow: a fiber used more than its %zu-byte stack (%s%s); "
                        "run with a larger --stack-size\n",
                        stack_size, shared ? "the copy policy's shared run stack of its worker; " : "",
                        guarded ? "hit the guard page"
                                : "canary overwritten; no guard page, the kernel mapping budget was spent");
  if (n > 0) [[maybe_unused]] auto ignored = write(STDERR_FILENO, msg, std::min<std::size_t>(n, sizeof msg - 1));
  std::abort();
}

SharedStack::SharedStack(std::size_t size) {
  const std::size_t page = page_size();
  size = std::max(kMinStackSize, (size + page - 1) / page * page);
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                   -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  stack.base = static_cast<char*>(mem);
  stack.size = size;
  stack.top_ = stack.base + size;
  stack.shared = true;
  // One mapping per worker, so the guard page is always affordable.
  stack.guarded = mprotect(stack.base, page, PROT_NONE) == 0;
}

SharedStack::~SharedStack() {
  SPINDLE_UNPOISON(stack.base + page_size(), stack.size - page_size());
  munmap(stack.base, stack.size);
}

void check_canary_stack(const Stack& stack, const void* sp) noexcept {
  const char* p = static_cast<const char*>(sp);
  if (p < stack.bottom() || p > stack.top()) report_stack_overflow(stack.size, stack.guarded);
  std::uint64_t words[kCanaryBytes / 8];
  std::memcpy(words, stack.base, sizeof words);
  std::uint64_t any = 0;
  for (auto w : words) any |= w;
  if (any != 0) report_stack_overflow(stack.size, false);
}

StackPool::StackPool(Options options)
    : stack_size_(std::max(kMinStackSize, (options.stack_size + page_size() - 1) / page_size() * page_size())),
      guard_pages_(options.guard_pages) {}

StackPool::~StackPool() {
  std::lock_guard lock(mutex_);
  for (auto& slab : records_)
    for (auto& s : slab) {
#if defined(SPINDLE_TSAN)
      if (s.tsan_fiber) __tsan_destroy_fiber(s.tsan_fiber);
#endif
      (void)s;
    }
  // Abandoned fibers leave ASan redzones behind; clear them so a later mapping here starts clean.
  for (auto [base, len] : slabs_) {
    SPINDLE_UNPOISON(base, len);
    munmap(base, len);
  }
  if (budget_guards_) GuardBudget::give_back(budget_guards_);
}

// carve_slab: maps and prepares slab number `index` without the pool's lock (its mmap and up to one
// mprotect per guarded stack took tens of milliseconds for the big slabs, while every other worker that
// wanted a stack waited on the lock, long enough for the monitor to hand it off), then adds it under the lock.
void StackPool::carve_slab(std::size_t index) {
  const std::size_t count = std::size_t{64} << std::min<std::size_t>(index, 10);
  // Cache colouring (README "Stacks"): every slice is a page longer than the stack and an odd number of
  // pages long, so consecutive tops walk through every page colour of the L2 cache instead of landing
  // 64 KiB apart in the same few sets; within the top page a second colour of 0-1,792 bytes (the slice's
  // index / 32, in 256-byte steps) spreads the stacks that share a page colour. The extra page and the
  // colour cost address space, no memory: a parked fiber's frames still fit its top page.
  const std::size_t page = page_size();
  std::size_t slice = stack_size_ + page;
  if ((slice / page) % 2 == 0) slice += page;
  const std::size_t len = count * slice;
  void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                   -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  char* base = static_cast<char*>(mem);
  std::vector<Stack> records(count);
  IntrusiveStack<Stack> fresh;
  std::size_t guarded = 0, from_budget = 0;
  // Push in reverse so the lowest-addressed stack is handed out first.
  for (std::size_t i = count; i-- > 0;) {
    Stack& s = records[i];
    s.base = base + i * slice;
    s.size = stack_size_;
    s.top_ = s.base + slice - ((i >> 5) & 7) * 256;
    if (guard_pages_) {
      if (install_guard(s.base)) {
        s.guarded = true;
        ++guarded;
      } else if (GuardBudget::take()) {
        if (mprotect(s.base, page_size(), PROT_NONE) == 0) {
          s.guarded = true;
          ++guarded;
          ++from_budget;
        } else {
          GuardBudget::give_back(1);
        }
      }
    }
    fresh.push(&s);  // TSan's fiber handle is created when the stack first runs (Worker::start)
  }
  std::lock_guard lock(mutex_);
  slabs_.emplace_back(base, len);
  records_.push_back(std::move(records));  // the records keep their addresses: the buffer moves whole
  free_.splice(fresh);
  created_ += count;
  guarded_ += guarded;
  budget_guards_ += from_budget;
}

IntrusiveStack<Stack> StackPool::take(std::size_t n) {
  n = std::max<std::size_t>(n, 1);
  std::unique_lock lock(mutex_);
  while (free_.size() < n) {
    const std::size_t index = slabs_reserved_++;
    lock.unlock();
    carve_slab(index);
    lock.lock();
  }
  out_.store(out_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  return free_.take(n);
}

void StackPool::give(IntrusiveStack<Stack>& stacks) {
  std::lock_guard lock(mutex_);
  out_.store(out_.load(std::memory_order_relaxed) - stacks.size(), std::memory_order_relaxed);
  free_.splice(stacks);
}

std::size_t StackPool::stacks_created() const { std::lock_guard lock(mutex_); return created_; }
std::size_t StackPool::guarded_stacks() const { std::lock_guard lock(mutex_); return guarded_; }
std::size_t StackPool::slabs() const { std::lock_guard lock(mutex_); return slabs_.size(); }

}  // namespace spindle::fiber
