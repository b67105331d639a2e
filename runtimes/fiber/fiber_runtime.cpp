// fiber_runtime.cpp — FiberRuntime's limit checks and option mapping. Per parked fiber, pooled: one touched
// stack page plus its control block, stack record and page-table share, and one full stack of address
// space; copy: its control block and its evicted stack (heap), no address space of its own.
#include "runtimes/fiber/fiber_runtime.h"

#include <sys/resource.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "runtimes/os/thread_limits.h"

namespace spindle {

namespace {

// meminfo_bytes: a /proc/meminfo field in bytes, or -1.
long long meminfo_bytes(const std::string& field) {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  long long kib = 0;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == field + ":") return kib * 1024;
  }
  return -1;
}

long long read_number(const char* path) {
  std::ifstream in(path);
  long long v = -1;
  in >> v;
  return v;
}

std::string mib(long long bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

}  // namespace

fiber::Config FiberRuntime::config_for(const RuntimeOptions& options) {
  auto policy = fiber::parse_stack_policy(options.stack_policy);
  if (!policy) throw std::invalid_argument("fiber: unknown or unavailable stack policy '" + options.stack_policy + "'");
  fiber::Config config;
  config.workers = options.workers;
  config.stack_size = options.stack_size;
  config.stack_policy = *policy;
  config.detect_deadlock = true;  // a workload's fibers are never woken by plain threads
  // SPINDLE_FIBER_MONITOR=0: no monitor, to measure what it buys (hog-latency, blocking-syscall).
  if (const char* m = std::getenv("SPINDLE_FIBER_MONITOR"); m != nullptr && std::string_view(m) == "0")
    config.monitor = config.detect_deadlock = false;
  return config;
}

RuntimeOptions FiberRuntime::fit_options(const RuntimeOptions& options, const Requirements& requirements) {
  RuntimeOptions fitted = options;
  const auto policy = fiber::parse_stack_policy(options.stack_policy);
  if (options.stack_size != 0 || requirements.stack_bytes == 0 || !policy) return fitted;
  const std::size_t page = fiber::page_size();
  const std::size_t fallback = *policy == fiber::StackPolicy::copy ? fiber::kDefaultSharedStackSize : fiber::kDefaultStackSize;
  const std::size_t need = (requirements.stack_bytes + page - 1) / page * page + page;  // + the guard page
  if (need > fallback) fitted.stack_size = need;
  return fitted;
}

std::string FiberRuntime::limit_reason(const RuntimeOptions& given, const Requirements& requirements) {
  if (!fiber::parse_stack_policy(given.stack_policy))
    return "stack policy '" + given.stack_policy + "' is not available on fiber (available: pooled, copy)";
  if (given.stack_size != 0 && given.stack_size < fiber::kMinStackSize)
    return "stack size " + std::to_string(given.stack_size) + " is below fiber's minimum of " +
           std::to_string(fiber::kMinStackSize) + " bytes";
  const RuntimeOptions options = fit_options(given, requirements);
  const long long page = static_cast<long long>(fiber::page_size());
  {
    // The deepest task against the stack it runs on (guard page excluded). Only the fibers running at once
    // are deep at once: a fiber that parks gives its deep pages back.
    const bool copy = *fiber::parse_stack_policy(options.stack_policy) == fiber::StackPolicy::copy;
    const std::size_t stack_bytes =
        options.stack_size ? options.stack_size : (copy ? fiber::kDefaultSharedStackSize : fiber::kDefaultStackSize);
    const int running = options.workers > 0 ? options.workers : default_workers();
    if (std::string why = os::stack_limit_reason(static_cast<std::uint64_t>(running), requirements.stack_bytes,
                                                 stack_bytes - static_cast<std::size_t>(page),
                                                 copy ? "fiber's copy-policy run stack (--stack-size)"
                                                      : "fiber's pooled stack (--stack-size)");
        !why.empty())
      return why;
  }
  const long long stack = static_cast<long long>(
      ((options.stack_size ? options.stack_size : fiber::kDefaultStackSize) + page - 1) / page * page);
  const long long tasks = static_cast<long long>(requirements.concurrent_tasks);
  if (*fiber::parse_stack_policy(options.stack_policy) == fiber::StackPolicy::copy) {
    // Resident per parked fiber: the control block and an evicted stack of a few hundred bytes (the
    // workloads park ~0.5 KiB deep; 2 KiB leaves room for deeper parks).
    const long long per_task = static_cast<long long>(sizeof(fiber::Fiber)) + 2048;
    const long long available = meminfo_bytes("MemAvailable");
    if (available > 0 && tasks * per_task > available / 10 * 8)
      return std::to_string(tasks) + " parked copy fibers need about " + mib(tasks * per_task) +
             " resident, more than 80% of the " + mib(available) + " available";
    return {};
  }
  // Resident per parked fiber: one stack page, the control block, the stack record, a page-table share.
  const long long per_task = page + static_cast<long long>(sizeof(fiber::Fiber) + sizeof(fiber::Stack)) +
                             stack / 512 + 64;
  const long long available = meminfo_bytes("MemAvailable");
  if (available > 0 && tasks * per_task > available / 10 * 8)
    return std::to_string(tasks) + " parked fibers need about " + mib(tasks * per_task) +
           " resident, more than 80% of the " + mib(available) + " available";
  const long long virtual_bytes = tasks * stack;
  if (virtual_bytes > (1LL << 46))
    return std::to_string(tasks) + " stacks of " + std::to_string(stack) + " bytes exceed 64 TiB of address space";
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY &&
      virtual_bytes > static_cast<long long>(as.rlim_cur))
    return std::to_string(tasks) + " stacks of " + std::to_string(stack) + " bytes exceed RLIMIT_AS (" +
           mib(static_cast<long long>(as.rlim_cur)) + ")";
  if (read_number("/proc/sys/vm/overcommit_memory") == 2) {
    long long room = meminfo_bytes("CommitLimit") - meminfo_bytes("Committed_AS");
    if (virtual_bytes > room)
      return "vm.overcommit_memory=2 charges whole stacks: " + mib(virtual_bytes) + " needed, " + mib(room) +
             " of commit limit left";
  }
  return {};
}

}  // namespace spindle
