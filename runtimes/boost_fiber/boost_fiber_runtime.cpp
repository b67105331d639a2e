// boost_fiber_runtime.cpp — the process-wide Boost.Fiber worker threads (see boost_fiber_runtime.h).
#include "runtimes/boost_fiber/boost_fiber_runtime.h"

#include <stdexcept>

#include "runtimes/os/thread_limits.h"

namespace spindle {
namespace boost_fiber_detail {
namespace {
thread_local bool t_on_worker = false;
}

bool Scheduler::on_worker() { return t_on_worker; }

Scheduler& Scheduler::instance(int workers) {
  // Lives for the process (work_stealing cannot restart). Constructed only after every worker created
  // its work_stealing scheduler, so it is destroyed — workers stopped and joined — before Boost's statics.
  static Scheduler sched(workers);
  if (sched.workers_ != workers)
    throw std::runtime_error("boost-fiber: worker threads already started with " + std::to_string(sched.workers_) +
                             " workers in this process; cannot switch to " + std::to_string(workers));
  return sched;
}

Scheduler::Scheduler(int workers) : workers_(workers), ready_(std::size_t(workers)), registered_(workers) {
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this, i] { worker_main(i); });
  registered_.wait();
}

Scheduler::~Scheduler() {
  // At exit the main thread's own Boost.Fiber context is already gone, so the wake-ups are sent from a
  // short-lived thread that still has one.
  std::thread([this] {
    inbox_.close();
    {
      std::unique_lock lock(stop_mu_);
      stop_ = true;
    }
    stop_cv_.notify_all();
  }).join();
  for (auto& t : threads_) t.join();
}

void Scheduler::launch(std::function<void()> fn) {
  if (inbox_.push(std::move(fn)) != boost::fibers::channel_op_status::success)
    throw std::runtime_error("boost-fiber: the scheduler's inbox is closed");
}

void Scheduler::worker_main(int index) {
  t_on_worker = true;
  // suspend = false, Boost's default: idle workers keep stealing. With suspend = true an idle worker sleeps
  // until a remote wake-up, which local posts never send, so one worker ends up running everything.
  // work_stealing needs a victim other than itself (with one thread it searches for one forever), so a
  // single worker runs Boost's round_robin, the same queue without stealing.
  if (workers_ > 1)
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(std::uint32_t(workers_));
  else
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
  registered_.count_down();
  ready_.wait();  // every scheduler registered before anyone steals
  if (index == 0) {
    // Worker 0's main fiber launches what plain threads submit, until the inbox closes at exit.
    std::function<void()> fn;
    while (inbox_.pop(fn) == boost::fibers::channel_op_status::success)
      boost::fibers::fiber(boost::fibers::launch::post, std::move(fn)).detach();
  } else {
    // The others only run (stolen) fibers: their main fiber parks until exit.
    std::unique_lock lock(stop_mu_);
    stop_cv_.wait(lock, [&] { return stop_; });
  }
}

}  // namespace boost_fiber_detail

// 64 KiB: below glibc's mmap threshold, so fixedsize_stack takes stacks from malloc's heap instead of
// one mmap + munmap per fiber (Boost's default of 128 KiB would); the same default as `fiber`.
constexpr std::size_t kDefaultStackSize = 64 * 1024;

BoostFiberRuntime::BoostFiberRuntime(const RuntimeOptions& opts)
    : sched_(boost_fiber_detail::Scheduler::instance(opts.workers > 0 ? opts.workers : default_workers())),
      stack_size_(opts.stack_size > 0 ? opts.stack_size : kDefaultStackSize) {}

std::string BoostFiberRuntime::limit_reason(const RuntimeOptions& opts, const Requirements& req) {
  return os::stack_limit_reason(req.concurrent_tasks, req.stack_bytes,
                                opts.stack_size > 0 ? opts.stack_size : kDefaultStackSize,
                                "boost-fiber's fixed-size stack (--stack-size)");
}

}  // namespace spindle
