// channel.h — Channel<T>, Go's channel for fibers and plain threads: capacity 0 is a rendezvous, otherwise a
// bounded FIFO buffer. Promises Go's close semantics: send on a closed channel returns false (blocked
// senders too), recv returns the buffered values and then nullopt once closed. A value in flight lives in
// the waiter's record (Fiber::scratch or heap), never on a parked fiber's stack.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "runtimes/fiber/spin_lock.h"
#include "runtimes/fiber/waiter.h"

namespace spindle::fiber {

template <class T>
class Channel {
 public:
  explicit Channel(std::size_t capacity = 0) : capacity_(capacity), buffer_(capacity) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // send: blocks until a receiver or buffer slot takes `value`; false if the channel is or becomes closed.
  bool send(T value) {
    lock_.lock();
    if (closed_) {
      lock_.unlock();
      return false;
    }
    if (Record* receiver = receivers_.pop()) {
      receiver->slot.emplace(std::move(value));
      lock_.unlock();
      receiver->wake();
      return true;
    }
    if (count_ < capacity_) {
      buffer_[(head_ + count_) % capacity_].emplace(std::move(value));
      ++count_;
      lock_.unlock();
      return true;
    }
    WaitRecord<Record> record;
    record->slot.emplace(std::move(value));
    senders_.push(record.get());
    record->block(lock_);
    return record->delivered;
  }

  // recv: blocks until a value arrives; nullopt once the channel is closed and drained.
  std::optional<T> recv() {
    lock_.lock();
    if (count_ > 0) {
      std::optional<T> value = std::move(buffer_[head_]);
      buffer_[head_].reset();
      head_ = (head_ + 1) % capacity_;
      --count_;
      if (Record* sender = senders_.pop()) {  // a blocked sender's value moves into the freed slot
        buffer_[(head_ + count_) % capacity_] = std::move(sender->slot);
        ++count_;
        sender->delivered = true;
        lock_.unlock();
        sender->wake();
      } else {
        lock_.unlock();
      }
      return value;
    }
    if (Record* sender = senders_.pop()) {
      std::optional<T> value = std::move(sender->slot);
      sender->delivered = true;
      lock_.unlock();
      sender->wake();
      return value;
    }
    if (closed_) {
      lock_.unlock();
      return std::nullopt;
    }
    WaitRecord<Record> record;
    receivers_.push(record.get());
    record->block(lock_);
    return std::move(record->slot);
  }

  // close: wakes every blocked receiver (nullopt) and sender (false). Closing twice is a no-op.
  void close() {
    lock_.lock();
    if (closed_) {
      lock_.unlock();
      return;
    }
    closed_ = true;
    Record* receivers = receivers_.take_all();
    Record* senders = senders_.take_all();
    for (Record* s = senders; s; s = static_cast<Record*>(s->next)) s->delivered = false;
    lock_.unlock();
    wake_all(receivers);
    wake_all(senders);
  }

 private:
  struct Record : Waiter {
    using Waiter::Waiter;
    std::optional<T> slot;   // the value being sent, or the value received
    bool delivered = false;  // senders: a receiver took the value
  };

  SpinLock lock_;
  const std::size_t capacity_;
  std::vector<std::optional<T>> buffer_;  // guarded by lock_ (ring: head_, count_)
  std::size_t head_ = 0, count_ = 0;      // guarded by lock_
  bool closed_ = false;                   // guarded by lock_
  WaitList<Record> receivers_, senders_;  // guarded by lock_
};

}  // namespace spindle::fiber
