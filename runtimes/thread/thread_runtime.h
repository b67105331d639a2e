// thread_runtime.h — the `thread` adapter: one std::thread per task, channels and wait groups on mutex +
// condition variable, yield = std::this_thread::yield. It never starts more threads than the machine
// allows: spawn waits while the cap is reached, and cases that need more alive at once are refused.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "runtimes/os/blocking_sync.h"
#include "runtimes/os/net.h"
#include "runtimes/os/thread_limits.h"
#include "runtimes/runtime.h"

namespace spindle {

class ThreadRuntime {
 public:
  static constexpr std::string_view name = "thread";
  static constexpr std::string_view summary = "one std::thread per task; mutex + condition variable channels";
  static constexpr Capabilities caps{.blocking_channels = true,
                                     .fork_join_channels = true,
                                     .yield = true,
                                     .parking = true,
                                     .one_thread_per_task = true,
                                     .net = true};

  using WaitGroup = os::WaitGroup<os::BlockingWaiter>;
  template <class T>
  using Channel = os::Channel<T, os::BlockingWaiter>;

  explicit ThreadRuntime(const RuntimeOptions& opts)
      : options_(opts),
        workers_(opts.workers > 0 ? opts.workers : default_workers()),
        state_(std::make_shared<State>(os::thread_limits().max_threads)),
        threads_at_start_(os::live_threads()) {}

  // ~ThreadRuntime: waits (up to 10 s) until every thread it started has left the kernel too, so their
  // stacks are unmapped before the next repetition measures anything.
  ~ThreadRuntime() { os::wait_for_live_threads(threads_at_start_, std::chrono::seconds(10)); }
  ThreadRuntime(const ThreadRuntime&) = delete;
  ThreadRuntime& operator=(const ThreadRuntime&) = delete;

  // limit_reason: the threads alive at once (+ the root task) and, for deep tasks, a std::thread's stack.
  static std::string limit_reason(const RuntimeOptions&, const Requirements& req) {
    if (std::string why = os::thread_limit_reason(req.concurrent_tasks + 1); !why.empty()) return why;
    return os::stack_limit_reason(req.concurrent_tasks, req.stack_bytes, os::default_thread_stack_bytes(),
                                  "a std::thread's default stack (RLIMIT_STACK)");
  }

  // run: runs `root` on a thread of its own; returns when every thread spawned has finished. Under the
  // harness (abandon handler installed) the first exception a thread lets escape ends the run at once:
  // the threads still alive are abandoned (abandon_run in runtime.h; does not return).
  template <class F>
  void run(F&& root) {
    spawn(std::forward<F>(root));
    std::unique_lock lock(state_->mu);
    state_->cv.wait(lock, [&] { return state_->live == 0 || (state_->error && abandon_handler_installed()); });
    std::exception_ptr error = std::exchange(state_->error, nullptr);
    if (error && state_->live > 0) {
      lock.unlock();
      abandon_run(error);
    }
    if (error) std::rethrow_exception(error);
  }

  // spawn: starts a thread for `fn`; while `cap` threads are alive it waits for one to finish first. A
  // thread that cannot be created (EAGAIN) ends the run (guarded_spawn in runtime.h).
  template <class F>
  void spawn(F&& fn) {
    guarded_spawn(
        in_task_, [&] { start(std::forward<F>(fn)); }, [&](std::exception_ptr e) { state_->fail(std::move(e)); },
        [] { std::this_thread::sleep_for(std::chrono::hours(1)); });
  }

  int workers() const { return workers_; }
  const RuntimeOptions& options() const noexcept { return options_; }
  static void yield() { std::this_thread::yield(); }
  static void sleep_for(std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); }

  // NetPolicy: blocking sockets, one thread per connection; each call's timeout is SO_RCVTIMEO/SO_SNDTIMEO.
  struct NetPolicy {
    static constexpr bool nonblocking = false;
    static void* attach(int) { return nullptr; }
    static void detach(void*) {}
    static bool wait(void*, int fd, bool write, os::Deadline deadline) { return os::poll_fd(fd, write, deadline); }
  };
  using Net = os::Net<NetPolicy>;

 private:
  // State outlives the runtime object while detached threads finish their last unlock.
  struct State {
    explicit State(std::uint64_t c) : cap(c > 0 ? c : 1) {}
    std::mutex mu;
    std::condition_variable cv;
    std::uint64_t live = 0;
    std::uint64_t cap;
    std::exception_ptr error;
    // fail: keeps the first error and wakes run().
    void fail(std::exception_ptr e) {
      std::lock_guard lock(mu);
      if (!error) error = std::move(e);
      cv.notify_all();
    }
  };

  template <class F>
  void start(F&& fn) {
    {
      std::unique_lock lock(state_->mu);
      state_->cv.wait(lock, [&] { return state_->live < state_->cap; });
      ++state_->live;
    }
    try {
      std::thread([state = state_, fn = std::optional<std::decay_t<F>>(std::forward<F>(fn))]() mutable {
        in_task_ = true;
        std::exception_ptr error;
        try {
          (*fn)();
        } catch (...) {
          error = std::current_exception();
        }
        fn.reset();  // destroy captures before this task counts as finished
        std::lock_guard lock(state->mu);
        const bool first_error = error && !state->error;
        if (first_error) state->error = error;
        if (--state->live == 0 || state->live + 1 == state->cap || first_error) state->cv.notify_all();
      }).detach();
    } catch (...) {
      std::lock_guard lock(state_->mu);
      --state_->live;
      state_->cv.notify_all();
      throw;
    }
  }

  static inline thread_local bool in_task_ = false;  // this thread runs a task (guarded_spawn may park it)
  RuntimeOptions options_;
  int workers_;
  std::shared_ptr<State> state_;
  std::uint64_t threads_at_start_;
};

}  // namespace spindle
