// boost_fiber_runtime.h — the `boost-fiber` adapter: Boost.Fiber's `work_stealing` algorithm over
// `--workers` threads (round_robin for a single worker), its unbuffered_channel / buffered_channel, and a
// wait group on its mutex and condition variable. Boost.Fiber's work_stealing keeps process-wide state that is initialised once, so
// the worker threads are started once per process (the first runtime's `workers` fixes their number)
// and kept for the process's life, stopped and joined at exit; each runtime object just runs its root
// through them.
#pragma once

#include <boost/fiber/all.hpp>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <latch>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "runtimes/os/blocking_sync.h"
#include "runtimes/runtime.h"

namespace spindle {

namespace boost_fiber_detail {

// Scheduler: the process-wide set of worker threads running Boost.Fiber's work_stealing.
class Scheduler {
 public:
  // instance: starts the workers on first call; throws if later asked for another worker count.
  static Scheduler& instance(int workers);
  // launch: starts `fn` as a fiber (from a worker: posted locally; from any other thread: via the inbox).
  void launch(std::function<void()> fn);
  int workers() const { return workers_; }
  static bool on_worker();

 private:
  explicit Scheduler(int workers);
  ~Scheduler();
  void worker_main(int index);
  int workers_;
  boost::fibers::buffered_channel<std::function<void()>> inbox_{1024};
  boost::fibers::barrier ready_;
  std::latch registered_;  // counted down once per worker after its work_stealing scheduler exists
  boost::fibers::mutex stop_mu_;
  boost::fibers::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
  std::vector<std::thread> threads_;
};

}  // namespace boost_fiber_detail

class BoostFiberRuntime {
 public:
  static constexpr std::string_view name = "boost-fiber";
  static constexpr std::string_view summary = "Boost.Fiber, work_stealing over --workers threads";
  static constexpr Capabilities caps{.blocking_channels = true,
                                     .fork_join_channels = true,
                                     .yield = true,
                                     .parking = true,
                                     .one_thread_per_task = false};

  // WaitGroup: the shared mutex/condvar wait group on Boost.Fiber's mutex and condition variable, so
  // wait() parks the fiber (or blocks a plain thread).
  using WaitGroup = os::WaitGroup<os::BlockingWaiter, boost::fibers::mutex, boost::fibers::condition_variable>;

  // Channel: capacity 0 is Boost's unbuffered_channel; capacity c > 0 a buffered_channel whose ring
  // holds at least c values (Boost needs a power of two and keeps one slot free).
  template <class T>
  class Channel {
   public:
    explicit Channel(std::size_t capacity) {
      if (capacity == 0) {
        unbuffered_ = std::make_unique<boost::fibers::unbuffered_channel<T>>();
      } else {
        std::size_t ring = 2;
        while (ring < capacity + 1) ring *= 2;
        buffered_ = std::make_unique<boost::fibers::buffered_channel<T>>(ring);
      }
    }
    bool send(T value) {
      auto st = unbuffered_ ? unbuffered_->push(std::move(value)) : buffered_->push(std::move(value));
      return st == boost::fibers::channel_op_status::success;
    }
    std::optional<T> recv() {
      T value{};
      auto st = unbuffered_ ? unbuffered_->pop(value) : buffered_->pop(value);
      return st == boost::fibers::channel_op_status::success ? std::optional<T>(std::move(value)) : std::nullopt;
    }
    void close() { unbuffered_ ? unbuffered_->close() : buffered_->close(); }

   private:
    std::unique_ptr<boost::fibers::unbuffered_channel<T>> unbuffered_;  // exactly one of the two is set
    std::unique_ptr<boost::fibers::buffered_channel<T>> buffered_;
  };

  explicit BoostFiberRuntime(const RuntimeOptions& opts);
  // limit_reason: a deep task needs its fixed-size stack (--stack-size, default 64 KiB; no guard page, so an
  // overflow would corrupt the heap) to hold it, and every stack touched that deep must fit in memory.
  static std::string limit_reason(const RuntimeOptions& opts, const Requirements& req);

  // run: launches `root` and blocks the calling thread until it and every fiber spawned have finished.
  // Under the harness (abandon handler installed) the first exception a fiber lets escape ends the run at
  // once: the fibers still suspended are abandoned (abandon_run in runtime.h; does not return).
  template <class F>
  void run(F&& root) {
    state_->outstanding.store(1);
    state_->error = nullptr;
    state_->signalled.store(false);
    std::promise<void> finished;
    state_->finished = &finished;
    auto all_done = finished.get_future();
    sched_.launch(wrap(std::forward<F>(root)));
    all_done.wait();
    std::exception_ptr error;
    {
      std::lock_guard lock(state_->error_mu);
      error = std::exchange(state_->error, nullptr);
    }
    if (error && state_->outstanding.load(std::memory_order_acquire) > 0) abandon_run(error);
    if (error) std::rethrow_exception(error);
  }

  // spawn: starts a fiber for `fn`. A fiber that cannot be started (no stack) ends the run (guarded_spawn
  // in runtime.h: under the harness the spawning fiber sleeps for ever).
  template <class F>
  void spawn(F&& fn) {
    guarded_spawn(
        boost_fiber_detail::Scheduler::on_worker(),
        [&] {
          state_->outstanding.fetch_add(1, std::memory_order_relaxed);
          try {
            if (boost_fiber_detail::Scheduler::on_worker())
              boost::fibers::fiber(boost::fibers::launch::post, std::allocator_arg,
                                   boost::fibers::fixedsize_stack(stack_size_), wrap(std::forward<F>(fn)))
                  .detach();
            else
              sched_.launch(wrap(std::forward<F>(fn)));
          } catch (...) {  // no fiber started
            state_->outstanding.fetch_sub(1, std::memory_order_relaxed);
            throw;
          }
        },
        [&](std::exception_ptr e) { state_->fail(std::move(e)); },
        [] { boost::this_fiber::sleep_for(std::chrono::hours(1)); });
  }

  int workers() const { return sched_.workers(); }
  static void yield() { boost::this_fiber::yield(); }
  static void sleep_for(std::chrono::nanoseconds d) { boost::this_fiber::sleep_for(d); }

 private:
  struct State {
    std::atomic<std::int64_t> outstanding{0};
    std::mutex error_mu;
    std::exception_ptr error;
    std::promise<void>* finished = nullptr;
    std::atomic<bool> signalled{false};  // `finished` set (by the last fiber, or at the first error)
    void signal() {
      if (!signalled.exchange(true, std::memory_order_acq_rel)) finished->set_value();
    }
    // fail: keeps the first error and wakes run().
    void fail(std::exception_ptr e) {
      {
        std::lock_guard lock(error_mu);
        if (!error) error = std::move(e);
      }
      signal();
    }
  };

  template <class F>
  std::function<void()> wrap(F&& fn) {
    return [state = state_.get(), fn = std::optional<std::decay_t<F>>(std::forward<F>(fn))]() mutable {
      bool first_error = false;
      try {
        (*fn)();
      } catch (...) {
        std::lock_guard lock(state->error_mu);
        first_error = !state->error;
        if (first_error) state->error = std::current_exception();
      }
      fn.reset();  // destroy captures before this task counts as finished
      if (state->outstanding.fetch_sub(1, std::memory_order_acq_rel) == 1 || (first_error && abandon_handler_installed()))
        state->signal();
    };
  }

  boost_fiber_detail::Scheduler& sched_;
  std::size_t stack_size_;
  std::unique_ptr<State> state_ = std::make_unique<State>();
};

}  // namespace spindle
