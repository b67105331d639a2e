// blocking_syscall.h — `blocking-syscall`: `tasks` tasks, of which `blocking` make plain blocking system
// calls the runtime does not know about, beside `tasks - blocking` tasks that keep stepping. What it shows:
// whether a task stuck in the kernel takes its worker (and the tasks queued behind it) down with it.
//
// A blocking task calls read() back to back, with no scheduling point between two calls, until every
// stepping task has finished or `hold-ms` has passed since the start, whichever comes first: each time it
// asks the PipeFiller (one helper std::thread, outside the runtime) to write one byte into the task's own
// pipe `block-us` microseconds from now, then calls ::read() on the pipe — a plain blocking read that waits
// ~block-us in the kernel — and checks the byte's value (the call's sequence number mod 256). So the
// blocking lasts across the measurement on every runtime. `hold-ms` is the bound that keeps a runtime which
// cannot take a blocked worker back (no monitor) from hanging: its stepping tasks stall until then, and
// the stall is in its figures (steps/s, step gaps ~ hold-ms) instead of a timeout.
// A stepping task does `steps` steps: short CPU work, then a hand-off with its partner (task i pairs with
// i^1; an odd one out pairs with itself) over capacity-1 channels — each sends its step number to the
// partner's inbox and receives the partner's from its own, so every step is a scheduling point.
// op = one step of one stepping task. Counters: steps_per_second (all steps over first spawn .. last
// stepping task done), step_gap_p50/p99/max_ns (time between two consecutive steps of one task,
// latency_histogram.h), blocking_calls. Checksum: every step got its partner's step number, and every
// pipe byte was read back with its value.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "workloads/cpu_work.h"
#include "workloads/latency_histogram.h"
#include "workloads/workload.h"

namespace spindle {

// PipeFiller: one helper OS thread that writes a byte into a pipe when it falls due; blocking tasks post
// their request just before they block in read().
class PipeFiller {
 public:
  using Clock = std::chrono::steady_clock;
  // written: counts the bytes written; complete once the filler is destroyed (its thread joined).
  explicit PipeFiller(std::atomic<std::uint64_t>& written) : written_(written), thread_([this] { loop(); }) {}
  ~PipeFiller() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  PipeFiller(const PipeFiller&) = delete;
  PipeFiller& operator=(const PipeFiller&) = delete;

  void post(int fd, unsigned char value, Clock::time_point due) {
    {
      std::lock_guard lock(mu_);
      due_.push({due, fd, value});
    }
    cv_.notify_one();
  }

 private:
  struct Due {
    Clock::time_point at;
    int fd;
    unsigned char value;
    bool operator>(const Due& o) const { return at > o.at; }
  };
  void loop() {
    std::unique_lock lock(mu_);
    while (!stop_ || !due_.empty()) {
      if (due_.empty()) {
        cv_.wait(lock);
      } else if (Due d = due_.top(); d.at <= Clock::now()) {
        due_.pop();
        lock.unlock();
        ssize_t n;
        do n = ::write(d.fd, &d.value, 1);
        while (n < 0 && errno == EINTR);
        if (n == 1) written_.fetch_add(1, std::memory_order_relaxed);
        lock.lock();
      } else {
        cv_.wait_until(lock, d.at);
      }
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  bool stop_ = false;
  std::atomic<std::uint64_t>& written_;
  std::thread thread_;  // last: started once everything above exists
};

// Pipe: one blocking task's pipe, closed on destruction.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
};

struct BlockingSyscall {
  static constexpr std::string_view name = "blocking-syscall";
  static constexpr std::string_view summary =
      "some tasks block in plain read() on a pipe the runtime does not know of; the others step over channels";
  static constexpr std::string_view op = "one step of a non-blocking task (CPU work + a channel hand-off)";
  static constexpr MainFigure main_figure{"steps_per_second", "steps/s", "step_gap_p99_ns", "ns gap p99"};
  static constexpr std::uint64_t kWorkRounds = 256;  // the CPU part of a step: ~0.1-0.3 us
  static std::vector<ParamSpec> params() {
    return {{"tasks", 1'000, 2, 100'000, "tasks in all, blocking ones included"},
            {"blocking", 100, 0, 4'096, "tasks that make blocking read() calls (each has a pipe: 2 fds)"},
            {"block-us", 1'000, 1, 1'000'000, "how long each read() blocks, in microseconds"},
            {"steps", 100, 2, 1'000'000'000, "steps per non-blocking task"},
            {"hold-ms", 1'000, 1, 600'000, "the longest the blocking tasks keep calling read(), in milliseconds"}};
  }
  static std::string check(const ParamValues& p) {
    if (p.at("blocking") < p.at("tasks")) return {};
    return "blocking=" + std::to_string(p.at("blocking")) + " must be less than tasks=" +
           std::to_string(p.at("tasks")) + " (at least one task must step)";
  }
  static Requirements requirements(const ParamValues& p) {
    return {.blocking_channels = true, .parking = true,
            .concurrent_tasks = std::uint64_t(p.at("tasks"))};
  }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    using Clock = std::chrono::steady_clock;
    using Chan = typename R::template Channel<std::int64_t>;
    const std::int64_t tasks = p.at("tasks"), blocking = p.at("blocking"), steps = p.at("steps");
    if (std::string why = check(p); !why.empty()) throw std::invalid_argument(why);
    const std::int64_t stepping = tasks - blocking;
    const auto block = std::chrono::microseconds(p.at("block-us"));
    const auto hold = std::chrono::milliseconds(p.at("hold-ms"));

    std::vector<std::unique_ptr<Pipe>> pipes;
    for (std::int64_t i = 0; i < blocking; ++i) pipes.push_back(std::make_unique<Pipe>());
    std::vector<std::unique_ptr<Chan>> inbox;
    for (std::int64_t i = 0; i < stepping; ++i) inbox.push_back(std::make_unique<Chan>(1));

    std::atomic<std::uint64_t> written{0};
    auto filler = std::make_unique<PipeFiller>(written);
    LatencyHistogram gaps;
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> good_steps{0}, calls{0}, good_bytes{0};
    std::atomic<std::uint64_t> sink{0};
    typename R::WaitGroup stepping_done, blocking_done;
    Clock::time_point t0, t1;
    rt.run([&] {
      t0 = Clock::now();
      const auto give_up = t0 + hold;
      blocking_done.add(blocking);
      for (std::int64_t b = 0; b < blocking; ++b) {
        rt.spawn([&, b, give_up] {
          const int rfd = pipes[b]->fds[0], wfd = pipes[b]->fds[1];
          std::int64_t n = 0, good = 0;
          do {
            const auto value = static_cast<unsigned char>(n & 0xFF);
            filler->post(wfd, value, Clock::now() + block);
            unsigned char got = 0;
            ssize_t r;
            do r = ::read(rfd, &got, 1);  // the plain blocking call
            while (r < 0 && errno == EINTR);
            good += (r == 1 && got == value);
            ++n;
          } while (!stop.load(std::memory_order_acquire) && Clock::now() < give_up);
          calls.fetch_add(n, std::memory_order_relaxed);
          good_bytes.fetch_add(good, std::memory_order_relaxed);
          blocking_done.done();
        });
      }
      stepping_done.add(stepping);
      for (std::int64_t i = 0; i < stepping; ++i) {
        rt.spawn([&, i] {
          Chan& mine = *inbox[i];
          Chan& partner = *inbox[(i ^ 1) < stepping ? (i ^ 1) : i];
          std::uint64_t x = std::uint64_t(i);
          std::int64_t good = 0;
          Clock::time_point last{};
          for (std::int64_t s = 0; s < steps; ++s) {
            x = lcg_steps(x, kWorkRounds);
            partner.send(s);
            auto v = mine.recv();
            good += (v && *v == s);
            const auto now = Clock::now();
            if (s > 0) gaps.record(std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(now - last).count()));
            last = now;
          }
          sink.fetch_xor(x, std::memory_order_relaxed);
          good_steps.fetch_add(good, std::memory_order_relaxed);
          stepping_done.done();
        });
      }
      stepping_done.wait();
      t1 = Clock::now();
      stop.store(true, std::memory_order_release);
      blocking_done.wait();
    });
    filler.reset();  // joins its thread: `written` is final

    WorkloadResult r = passed(std::uint64_t(stepping * steps), std::uint64_t(tasks));
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    r.counters["steps_per_second"] = seconds > 0 ? double(stepping * steps) / seconds : 0;
    r.counters["step_gap_p50_ns"] = double(gaps.percentile(500));
    r.counters["step_gap_p99_ns"] = double(gaps.percentile(990));
    r.counters["step_gap_max_ns"] = double(gaps.max());
    r.counters["blocking_calls"] = double(calls.load());
    expect(r, "steps that got the partner's step number", stepping * steps, good_steps.load());
    expect(r, "pipe bytes read back with their value", calls.load(), good_bytes.load());
    expect(r, "pipe bytes the helper wrote", calls.load(), std::int64_t(written.load()));
    expect(r, "step gaps recorded", stepping * (steps - 1), std::int64_t(gaps.total()));
    if (sink.load() == 0x5EED) r.counters["sink"] = 1;  // keeps the CPU work observable
    return r;
  }
};

}  // namespace spindle
