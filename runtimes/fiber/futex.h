// futex.h — the two Linux futex calls the fiber runtime blocks OS threads with (idle workers, plain-thread
// callers of channels and wait groups, Runtime::run). Promises: waits tolerate spurious wakeups (callers
// loop on their own condition); a timeout of nullopt waits forever.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>

namespace spindle::fiber {

// futex_wait: sleeps while `word` still holds `expected`, at most `timeout`. Returns on a wake, a
// timeout, a signal or a value mismatch; the caller rechecks its condition. True only when woken by
// futex_wake (the idle protocol hands a spinning slot to the worker it wakes).
inline bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout) {
    auto ns = timeout->count() < 0 ? 0 : timeout->count();
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, tsp, nullptr, 0) == 0;
}

// futex_wait_bitset: futex_wait for one of several sleepers on one word, which futex_wake_bitset can wake
// alone (plain futex_wake still wakes any of them). `deadline_ns` is absolute, on CLOCK_MONOTONIC
// (std::chrono::steady_clock on Linux). True only when woken.
inline bool futex_wait_bitset(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::uint32_t bitset,
                              std::optional<std::int64_t> deadline_ns = std::nullopt) {
  timespec ts{};
  timespec* tsp = nullptr;
  if (deadline_ns) {
    auto ns = *deadline_ns < 0 ? 0 : *deadline_ns;
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_BITSET_PRIVATE, expected, tsp,
                 nullptr, bitset) == 0;
}

// futex_wake_bitset: wakes up to `count` sleepers whose futex_wait_bitset mask shares a bit with `bitset`.
inline int futex_wake_bitset(std::atomic<std::uint32_t>& word, int count, std::uint32_t bitset) {
  return (int)syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_BITSET_PRIVATE, count, nullptr,
                      nullptr, bitset);
}

// futex_wake: wakes up to `count` threads sleeping on `word`.
// Returns how many were woken.
inline int futex_wake(std::atomic<std::uint32_t>& word, int count = 1) {
  return (int)syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

inline void futex_wake_all(std::atomic<std::uint32_t>& word) { futex_wake(word, INT_MAX); }

}  // namespace spindle::fiber
