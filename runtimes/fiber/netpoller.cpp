// netpoller.cpp — Netpoller: epoll (edge-triggered, registered once per socket), an eventfd to interrupt a
// blocked poll, PollDescs in stable chunks with a generation per registration, and the deadline sweep.
#include "runtimes/fiber/netpoller.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

#include "runtimes/fiber/scheduler.h"
#include "runtimes/fiber/waiter.h"

namespace spindle::fiber {

namespace {

constexpr std::uint64_t kInterruptTag = ~std::uint64_t{0};
constexpr int kEventsPerPoll = 256;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

Netpoller::Netpoller() : chunks_(new std::atomic<PollDesc*>[kMaxChunks]) {
  for (std::uint32_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) fail("spindle fiber: epoll_create1");
  eventfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (eventfd_ < 0) fail("spindle fiber: eventfd");
  // The blocking poll waits on waitfd_: the eventfd and the sockets' epoll instance (nested). Non-blocking
  // polls read the sockets' instance only, so they can never swallow an interrupt meant for the blocked one.
  waitfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (waitfd_ < 0) fail("spindle fiber: epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kInterruptTag;
  if (epoll_ctl(waitfd_, EPOLL_CTL_ADD, eventfd_, &ev) != 0) fail("spindle fiber: epoll_ctl(eventfd)");
  ev.data.u64 = 0;
  if (epoll_ctl(waitfd_, EPOLL_CTL_ADD, epfd_, &ev) != 0) fail("spindle fiber: epoll_ctl(epoll)");
}

Netpoller::~Netpoller() {
  ::close(waitfd_);
  ::close(eventfd_);
  ::close(epfd_);
  for (std::uint32_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

PollDesc* Netpoller::desc(std::uint32_t slot) const noexcept {
  return &chunks_[slot / kChunk].load(std::memory_order_acquire)[slot % kChunk];
}

PollDesc* Netpoller::open(int fd) {
  PollDesc* pd;
  {
    std::lock_guard lock(mutex_);
    if (free_ != nullptr) {
      pd = free_;
      free_ = pd->next_free;
    } else {
      std::uint32_t slot = slots_;
      if (slot / kChunk >= kMaxChunks) throw std::runtime_error("spindle fiber: more than 4M sockets registered");
      if (slot % kChunk == 0) {
        auto* chunk = new PollDesc[kChunk];
        for (std::uint32_t i = 0; i < kChunk; ++i) {
          chunk[i].slot = slot + i;
          chunk[i].owner = this;
        }
        chunks_[slot / kChunk].store(chunk, std::memory_order_release);
      }
      pd = desc(slot);
      ++slots_;
    }
  }
  std::uint32_t gen;
  {
    std::lock_guard lock(pd->lock);
    pd->fd = fd;
    pd->ready[0] = pd->ready[1] = false;
    pd->waiter[0] = pd->waiter[1] = nullptr;
    gen = pd->gen;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (std::uint64_t{pd->slot} << 32) | gen;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    close(pd);
    errno = err;
    fail("spindle fiber: epoll_ctl(ADD) of a socket");
  }
  registered_.fetch_add(1, std::memory_order_relaxed);
  return pd;
}

void Netpoller::close(PollDesc* pd) {
  if (pd->fd >= 0 && epoll_ctl(epfd_, EPOLL_CTL_DEL, pd->fd, nullptr) == 0)
    registered_.fetch_sub(1, std::memory_order_relaxed);
  IntrusiveStack<Fiber> fibers;
  {
    std::lock_guard lock(pd->lock);
    ++pd->gen;  // events still in flight for this registration are dropped
    pd->fd = -1;
    for (int dir = 0; dir < 2; ++dir)
      if (pd->waiter[dir] != nullptr) take_waiter(*pd, dir, PollDesc::kTimedOut, fibers);
  }
  Scheduler::ready_all(fibers);
  std::lock_guard lock(mutex_);
  pd->next_free = free_;
  free_ = pd;
}

bool Netpoller::wait(PollDesc* pd, bool write, std::int64_t deadline_ns) {
  const int dir = write ? 1 : 0;
  pd->lock.lock();
  if (pd->ready[dir]) {
    pd->ready[dir] = false;
    pd->lock.unlock();
    return true;
  }
  if (deadline_ns != kNoDeadline && now_ns() >= deadline_ns) {
    pd->lock.unlock();
    return false;
  }
  WaitRecord<Waiter> record;
  pd->waiter[dir] = record.get();
  pd->deadline_ns[dir] = deadline_ns;
  pd->result[dir] = 0;
  if (deadline_ns != kNoDeadline) deadline_waiters_.fetch_add(1, std::memory_order_relaxed);
  record->block(pd->lock);  // the poller or the sweep wakes us after writing result[dir] under pd->lock
  return pd->result[dir] == PollDesc::kReady;
}

void Netpoller::take_waiter(PollDesc& pd, int dir, std::uint8_t result, IntrusiveStack<Fiber>& fibers) {
  Waiter* w = pd.waiter[dir];
  pd.waiter[dir] = nullptr;
  pd.result[dir] = result;
  if (pd.deadline_ns[dir] != kNoDeadline) deadline_waiters_.fetch_sub(1, std::memory_order_relaxed);
  if (w->fiber != nullptr) fibers.push(w->fiber); else w->wake();
}

bool Netpoller::poll(std::int64_t timeout_ns, IntrusiveStack<Fiber>& fibers) {
  // A blocked poll comes back at least every kSweepNs, so a deadline that appears while it sleeps is swept
  // in time without waking it for every new waiter.
  if (timeout_ns < 0 || timeout_ns > kSweepNs) timeout_ns = kSweepNs;
  const int ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
  bool interrupted = false;
  epoll_event events[kEventsPerPoll];
  if (ms != 0) {  // block on the eventfd and the sockets' instance, then collect without blocking
    int n = epoll_wait(waitfd_, events, 2, ms);
    if (n < 0 && errno != EINTR) fail("spindle fiber: epoll_wait");
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 != kInterruptTag) continue;
      // Read, then clear (Go's netpollWakeSig order). Clearing first would let a second interrupt's write be
      // swallowed by this read while the flag stays set, and every later interrupt would be dropped. An
      // interrupt arriving between the read and the clear is redundant: this poll is returning anyway, and
      // the worker rechecks stop_, its inbox and poll_slots_ after it.
      std::uint64_t count;
      [[maybe_unused]] ssize_t r = ::read(eventfd_, &count, sizeof count);
      interrupt_pending_.store(false, std::memory_order_seq_cst);
      interrupted = true;
    }
  }
  int n = epoll_wait(epfd_, events, kEventsPerPoll, 0);
  if (n < 0 && errno != EINTR) fail("spindle fiber: epoll_wait");
  for (int i = 0; i < n; ++i) {
    const std::uint64_t data = events[i].data.u64;
    PollDesc* pd = desc(static_cast<std::uint32_t>(data >> 32));
    const std::uint32_t ev = events[i].events;
    std::lock_guard lock(pd->lock);
    if (pd->gen != static_cast<std::uint32_t>(data)) continue;  // closed (and maybe reused) since
    const bool ready[2] = {(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0,
                           (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0};
    for (int dir = 0; dir < 2; ++dir) {
      if (!ready[dir]) continue;
      if (pd->waiter[dir] != nullptr) take_waiter(*pd, dir, PollDesc::kReady, fibers);
      else pd->ready[dir] = true;
    }
  }
  if (has_deadlines()) {
    std::int64_t now = now_ns();
    if (now >= next_sweep_ns_.load(std::memory_order_relaxed)) sweep(now, fibers);
  }
  return interrupted;
}

void Netpoller::sweep(std::int64_t now, IntrusiveStack<Fiber>& fibers) {
  next_sweep_ns_.store(now + kSweepNs, std::memory_order_relaxed);
  std::uint32_t slots;
  {
    std::lock_guard lock(mutex_);
    slots = slots_;
  }
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    PollDesc* pd = desc(slot);
    std::lock_guard lock(pd->lock);
    for (int dir = 0; dir < 2; ++dir)
      if (pd->waiter[dir] != nullptr && pd->deadline_ns[dir] <= now) take_waiter(*pd, dir, PollDesc::kTimedOut, fibers);
  }
}

void Netpoller::interrupt() noexcept {
  if (interrupt_pending_.exchange(true, std::memory_order_seq_cst)) return;
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(eventfd_, &one, sizeof one);
}

}  // namespace spindle::fiber
