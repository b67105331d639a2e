// runtime.h — the one contract every in-process runtime adapter satisfies (the `Runtime` concept), plus
// the small value types shared by adapters, workloads and the harness. Workloads are templates over the
// concept, so the measured path has no virtual call.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace spindle {

// RuntimeOptions: what the CLI passes to every runtime. Zero means "the runtime's default".
struct RuntimeOptions {
  int workers = 0;                // OS threads for M:N runtimes and pools; 0 = all online cores
  std::size_t stack_size = 0;     // bytes per task stack where the runtime has its own stacks
  std::string stack_policy;       // fiber only: "pooled" (default) or "copy"
};

// Capabilities: what a runtime can do. A workload states what it needs (Requirements); the harness
// compares the two before anything runs and reports `unsupported` with the reason instead of hanging.
struct Capabilities {
  bool blocking_channels = false;   // a task may block in send/recv on any pattern (peers on one worker)
  bool fork_join_channels = false;  // a task may wait in recv for values its own descendants send
  bool yield = false;               // R::yield() lets another ready task run
  bool parking = false;             // very many tasks can be blocked at once without holding a worker
  bool one_thread_per_task = false; // every task is an OS thread: machine thread limits apply
  bool net = false;                 // R::Net: loopback TCP sockets (runtimes/os/net.h), see NetRuntime
};

// Requirements: what one workload case needs from a runtime.
struct Requirements {
  bool blocking_channels = false;
  bool fork_join_channels = false;
  bool yield = false;
  bool parking = false;
  bool net = false;
  std::uint64_t concurrent_tasks = 1;  // tasks that must be alive at the same time, at worst
  std::uint64_t connections = 0;       // loopback connections open at once (fds, ephemeral ports)
  std::size_t stack_bytes = 0;         // deepest stack a task needs (0: the workloads' usual few KiB)
};

// Runtime: the concept. `rt.run(f)` runs `f` as the root task and returns when it and every task spawned
// (transitively) have finished; an exception escaping any task is rethrown from run(). `spawn` may be
// called from inside a task. Channel<T>(capacity): capacity 0 is unbuffered (a rendezvous); send returns
// false on a closed channel, recv returns nullopt once the channel is closed and drained (Go's semantics).
// `limit_reason` returns a non-empty reason when the case cannot run within this machine's limits.
template <class R>
concept Runtime =
    std::constructible_from<R, const RuntimeOptions&> && std::default_initializable<typename R::WaitGroup> &&
    std::constructible_from<typename R::template Channel<std::int64_t>, std::size_t> &&
    requires(R& rt, const RuntimeOptions& opts, const Requirements& req,
                           std::function<void()> fn, typename R::WaitGroup& wg,
                           typename R::template Channel<std::int64_t>& ch) {
  { R::name } -> std::convertible_to<std::string_view>;
  { R::caps } -> std::convertible_to<Capabilities>;
  { R::limit_reason(opts, req) } -> std::convertible_to<std::string>;
  { rt.run(fn) };
  { rt.spawn(fn) };
  { rt.workers() } -> std::convertible_to<int>;
  { wg.add(std::int64_t{1}) };
  { wg.done() };
  { wg.wait() };
  { ch.send(std::int64_t{1}) } -> std::same_as<bool>;
  { ch.recv() } -> std::same_as<std::optional<std::int64_t>>;
  { ch.close() };
  { R::yield() };
  { R::sleep_for(std::chrono::nanoseconds{1}) };
};

// NetRuntime: a runtime with the optional `net` capability. R::Net is os::Net<Policy> (runtimes/os/net.h):
// listen on loopback (port 0), accept, connect, read, write, close, each with a deadline, every failure a
// NetError naming the operation and errno. How a task waits on a socket is the runtime's (its Policy).
template <class R>
concept NetRuntime = Runtime<R> && R::caps.net && requires(typename R::Net::Socket& s) {
  { R::Net::listen(1) } -> std::same_as<typename R::Net::Socket>;
  { R::Net::port(s) } -> std::convertible_to<std::uint16_t>;
};

// default_workers: the number of online CPUs (at least 1).
int default_workers();

// ---- a task failure ends the run (Go-style) ---------------------------------------------------------
// When a task throws (say its spawn failed: no thread, no stack) the run is over: run() stops waiting at
// the first escaped exception instead of waiting for every task, since the failed task's parent would
// wait forever for it. If tasks are still live then (blocked on channels and wait groups that live in the
// workload's frames), neither those frames nor the runtime can be torn down safely: destroying a
// condition variable a thread still waits on blocks for ever (glibc), and a Boost.Fiber channel wakes its
// waiters onto freed memory. So run() calls abandon_run(error), which never returns: it calls the
// handler the harness installed (which writes the `failed` record and exits the process without any
// teardown). A run whose tasks all finished rethrows as before. Without a handler (unit tests, library
// use) run() keeps the plain contract: it waits for every task, then rethrows the first exception.
using AbandonHandler = void (*)(std::exception_ptr error);
void set_abandon_handler(AbandonHandler handler);  // nullptr: none
bool abandon_handler_installed() noexcept;
[[noreturn]] void abandon_run(std::exception_ptr error);  // no handler: prints the reason, exits 1
// exception_text: what() of a std::exception, else a fixed phrase.
std::string exception_text(const std::exception_ptr& error);

// spawn_fault_point: test-only fault injection, called first in every in-process runtime's spawn. With
// SPINDLE_FAIL_SPAWN_AT=N in the environment (read once, at start-up) the Nth spawn of the process throws
// std::system_error(EAGAIN, "spawn (injected by SPINDLE_FAIL_SPAWN_AT=N)"), as a failed thread creation
// would. Unset, it costs one relaxed load and a branch.
namespace detail {
extern std::atomic<std::uint64_t> fail_spawn_at;  // 0: no injection
[[gnu::cold]] void count_spawn_for_fault();
}  // namespace detail
inline void spawn_fault_point() {
  if (detail::fail_spawn_at.load(std::memory_order_relaxed) != 0) [[unlikely]] detail::count_spawn_for_fault();
}
// set_spawn_fault_at: for tests: fail the nth spawn from now on (0: never), as SPINDLE_FAIL_SPAWN_AT=n.
void set_spawn_fault_at(std::uint64_t n);

// guarded_spawn: a runtime's spawn body. Calls spawn_fault_point() and then `start()`; if either throws:
// outside the harness (no abandon handler), or when the spawn is not a task's (run's root), the exception
// goes to the caller, as before. Under the harness the failure ends the run without unwinding the spawning
// task — its frames hold what the tasks it already spawned still use (skynet's channel of answers): the
// error goes to run() by `report(error)`, as if the task had thrown, and the task parks for ever by
// `park()`, outside the catch block (a fiber must not switch inside one: the caught-exception stack is the
// thread's).
template <class Start, class Report, class Park>
void guarded_spawn(bool from_task, Start&& start, Report&& report, Park&& park) {
  std::exception_ptr failure;
  try {
    spawn_fault_point();
    start();
    return;
  } catch (...) {
    if (!from_task || !abandon_handler_installed()) throw;
    failure = std::current_exception();
  }
  report(std::move(failure));
  for (;;) park();
}

}  // namespace spindle
