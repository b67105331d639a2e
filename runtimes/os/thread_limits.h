// thread_limits.h — how many OS threads this machine lets one process keep alive at once, and which limit
// binds. Read before any thread starts, so a case that would exceed it is refused (`limit`) instead of
// crashing, hanging or taking the machine down.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace spindle::os {

struct ThreadLimits {
  std::uint64_t max_threads = 0;  // the binding limit, with a safety margin already taken off
  std::string binding;            // which limit that is, in words, naming the sysctl/rlimit and its value
  std::uint64_t max_map_count = 0, threads_max = 0, rlimit_nproc = 0, mem_available_bytes = 0;
};

// thread_limits: reads /proc/sys/vm/max_map_count, /proc/sys/kernel/threads-max, RLIMIT_NPROC, the
// threads alive now and MemAvailable. Each thread costs two mappings (stack + guard page).
ThreadLimits thread_limits();

// thread_limit_reason: empty when `threads` alive at once fit, else one line naming the limit.
std::string thread_limit_reason(std::uint64_t threads);

// default_thread_stack_bytes: the stack a std::thread gets in this process: glibc's default thread
// attribute (pthread_getattr_default_np), which glibc takes from RLIMIT_STACK at start-up (8 MiB here).
std::size_t default_thread_stack_bytes();

// stack_limit_reason: empty when a task that needs `need` bytes of stack fits in a stack of `have` bytes
// (`whose` names that stack in the reason) and `tasks` stacks touched `need` deep fit in 80% of
// MemAvailable; else one line naming what binds. need = 0 (the usual shallow task) always fits.
std::string stack_limit_reason(std::uint64_t tasks, std::size_t need, std::size_t have, const std::string& whose);

// live_threads: this process's threads as the kernel counts them (/proc/self/status `Threads:`).
std::uint64_t live_threads();

// wait_for_live_threads: polls until live_threads() <= `count` or `timeout` passes; detached threads
// are still exiting for a moment after they signalled completion.
void wait_for_live_threads(std::uint64_t count, std::chrono::milliseconds timeout);

}  // namespace spindle::os
