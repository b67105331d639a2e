// intrusive_stack.h — IntrusiveStack<T>, the LIFO list of T linked through T::link that every free list and
// batch in the fiber runtime uses (fiber control blocks, stacks). Promises: never allocates; not thread-safe
// (owners guard it with a lock or keep it worker-local).
#pragma once

#include <cstddef>

namespace spindle::fiber {

template <class T>
class IntrusiveStack {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  void push(T* item) noexcept {
    item->link = head_;
    head_ = item;
    ++size_;
  }
  T* peek() const noexcept { return head_; }
  T* pop() noexcept {
    T* item = head_;
    if (item) {
      head_ = item->link;
      --size_;
    }
    return item;
  }
  // take: moves up to `n` items from the top of this list into a new list.
  IntrusiveStack take(std::size_t n) noexcept {
    IntrusiveStack out;
    while (n-- > 0 && head_) out.push(pop());
    return out;
  }
  // splice: moves every item of `other` onto this list.
  void splice(IntrusiveStack& other) noexcept {
    while (T* item = other.pop()) push(item);
  }

 private:
  T* head_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace spindle::fiber
