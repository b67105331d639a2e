// blocking_sync.h — WaitGroup and Channel<T> on a mutex + condition variable, shared by the OS-thread
// adapters (`thread`, `pool`; the WaitGroup also by `boost-fiber`, on Boost.Fiber's mutex and condvar). How a task waits is a policy (`Waiter`): a thread simply blocks;
// a pool worker runs queued tasks while it waits (see runtimes/pool/pool_runtime.h).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace spindle::os {

// BlockingWaiter: the plain policy — sleep on the primitive's condition variable until `ready()`.
struct BlockingWaiter {
  template <class Lock, class CondVar, class Ready>
  static void wait(Lock& lock, CondVar& cv, Ready ready) {
    cv.wait(lock, ready);
  }
};

// WaitGroup: Go's sync.WaitGroup. add() before the tasks start, done() once per unit, wait() until zero.
// Mutex and CondVar default to the OS ones; boost-fiber instantiates it with Boost.Fiber's, which park
// the fiber instead of the thread.
template <class Waiter, class Mutex = std::mutex, class CondVar = std::condition_variable>
class WaitGroup {
 public:
  void add(std::int64_t n) {
    std::lock_guard lock(mu_);
    count_ += n;
  }
  void done() {
    std::lock_guard lock(mu_);
    if (--count_ == 0) cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    Waiter::wait(lock, cv_, [&] { return count_ <= 0; });
  }

 private:
  Mutex mu_;
  CondVar cv_;
  std::int64_t count_ = 0;
};

// Channel: Go's channel semantics. capacity 0 is a rendezvous: send returns only once a receiver took
// the value. send on a closed channel returns false; recv returns nullopt once closed and drained.
template <class T, class Waiter>
class Channel {
 public:
  explicit Channel(std::size_t capacity) : capacity_(capacity) {}

  bool send(T value) {
    std::unique_lock lock(mu_);
    // Buffered: wait for room. Unbuffered: one value in flight at a time.
    Waiter::wait(lock, cv_, [&] { return closed_ || buffer_.size() < std::max<std::size_t>(capacity_, 1); });
    if (closed_) return false;
    buffer_.push_back(std::move(value));
    std::uint64_t ticket = ++sent_;
    cv_.notify_all();
    if (capacity_ == 0) {
      // Rendezvous: wait until a receiver took this value (or the channel closed).
      Waiter::wait(lock, cv_, [&] { return received_ >= ticket || closed_; });
    }
    return true;
  }

  std::optional<T> recv() {
    std::unique_lock lock(mu_);
    Waiter::wait(lock, cv_, [&] { return closed_ || !buffer_.empty(); });
    if (buffer_.empty()) return std::nullopt;
    T value = std::move(buffer_.front());
    buffer_.pop_front();
    ++received_;
    cv_.notify_all();
    return value;
  }

  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> buffer_;
  std::size_t capacity_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  bool closed_ = false;
};

}  // namespace spindle::os
