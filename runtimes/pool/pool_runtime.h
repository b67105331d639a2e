// pool_runtime.h — the `pool` adapter: a fixed pool of `--workers` threads over one locked task deque.
// Waiting (WaitGroup::wait, Channel::recv/send) runs queued tasks instead of sleeping, so fork-join works
// with any depth; a task cannot truly block, so cyclic patterns (ping-pong), yield and parking are
// declared unsupported in `caps`.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "runtimes/os/blocking_sync.h"
#include "runtimes/os/thread_limits.h"
#include "runtimes/runtime.h"

namespace spindle {

class PoolRuntime {
 public:
  static constexpr std::string_view name = "pool";
  static constexpr std::string_view summary = "fixed pool of --workers threads; waits help run queued tasks";
  static constexpr Capabilities caps{.blocking_channels = false,
                                     .fork_join_channels = true,
                                     .yield = false,
                                     .parking = false,
                                     .one_thread_per_task = false};

  // HelpingWaiter: while the condition is false, run queued tasks of the current pool; sleep on the
  // primitive's condition variable only when the queue is empty (woken by the primitive, or after a
  // short timeout to pick up tasks queued meanwhile).
  struct HelpingWaiter {
    template <class Ready>
    static void wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Ready ready) {
      PoolRuntime* pool = current_;
      while (!ready()) {
        lock.unlock();
        bool ran = pool != nullptr && pool->run_one();
        lock.lock();
        if (!ran && !ready()) cv.wait_for(lock, std::chrono::microseconds(100), ready);
      }
    }
  };

  using WaitGroup = os::WaitGroup<HelpingWaiter>;
  template <class T>
  using Channel = os::Channel<T, HelpingWaiter>;

  explicit PoolRuntime(const RuntimeOptions& opts) : workers_(opts.workers > 0 ? opts.workers : default_workers()) {
    threads_.reserve(workers_);
    for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { worker_loop(); });
  }
  ~PoolRuntime() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  PoolRuntime(const PoolRuntime&) = delete;
  PoolRuntime& operator=(const PoolRuntime&) = delete;

  // limit_reason: tasks run on the pool's std::threads, so a deep task needs their default stack to hold it.
  static std::string limit_reason(const RuntimeOptions&, const Requirements& req) {
    return os::stack_limit_reason(req.concurrent_tasks, req.stack_bytes, os::default_thread_stack_bytes(),
                                  "a pool thread's default stack (RLIMIT_STACK)");
  }

  // run: queues `root` and blocks the calling (non-pool) thread until every queued task has finished.
  // Under the harness (abandon handler installed) the first exception a task lets escape ends the run at
  // once: the pool, busy with tasks that may wait for ever, is abandoned (abandon_run in runtime.h).
  template <class F>
  void run(F&& root) {
    spawn(std::forward<F>(root));
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [&] { return outstanding_ == 0 || (error_ && abandon_handler_installed()); });
    std::exception_ptr error = std::exchange(error_, nullptr);
    if (error && outstanding_ > 0) {
      lock.unlock();
      abandon_run(error);
    }
    if (error) std::rethrow_exception(error);
  }

  // spawn: queues `fn`; callable from any thread. A failed spawn ends the run (guarded_spawn, runtime.h).
  template <class F>
  void spawn(F&& fn) {
    guarded_spawn(
        current_ == this,
        [&] {
          std::lock_guard lock(mu_);
          queue_.emplace_back(std::forward<F>(fn));  // strong guarantee: nothing queued if it throws
          ++outstanding_;
        },
        [&](std::exception_ptr e) { fail(std::move(e)); }, [] { std::this_thread::sleep_for(std::chrono::hours(1)); });
    work_cv_.notify_one();
  }

  int workers() const { return workers_; }
  static void yield() { std::this_thread::yield(); }
  static void sleep_for(std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); }

 private:
  // run_one: pops the newest task (LIFO keeps a helper on its own children) and runs it; false if none.
  bool run_one() {
    std::function<void()> task;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) return false;
      task = std::move(queue_.back());
      queue_.pop_back();
    }
    execute(task);
    return true;
  }

  // fail: keeps the first error and wakes run().
  void fail(std::exception_ptr e) {
    std::lock_guard lock(mu_);
    if (!error_) error_ = std::move(e);
    idle_cv_.notify_all();
  }

  void execute(std::function<void()>& task) {
    std::exception_ptr error;
    try {
      task();
    } catch (...) {
      error = std::current_exception();
    }
    task = nullptr;
    std::lock_guard lock(mu_);
    const bool first_error = error && !error_;
    if (first_error) error_ = error;
    if (--outstanding_ == 0 || first_error) idle_cv_.notify_all();
  }

  void worker_loop() {
    current_ = this;
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stop_ and nothing left
        task = std::move(queue_.back());
        queue_.pop_back();
      }
      execute(task);
    }
  }

  static inline thread_local PoolRuntime* current_ = nullptr;
  int workers_;
  std::mutex mu_;
  std::condition_variable work_cv_, idle_cv_;
  std::deque<std::function<void()>> queue_;
  std::uint64_t outstanding_ = 0;
  std::exception_ptr error_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace spindle
