// lifetime_test.cpp — a primitive may be destroyed as soon as its waiter returned (issue 16): WaitGroup::done
// and Mutex::unlock must not touch the object after the access that let a waiter through. The group or mutex
// lives alone on a page that the waiter makes inaccessible right after it returns, so a late access faults
// instead of silently reading a dead frame. The first test forces the interleaving that hung `scripts/test`
// under TSan (a waiter returning between done()'s decrement and its wake-up path) with a test hook; the
// others repeat the destroy-at-once pattern many times under real scheduling. Both stack policies,
// 1, 2, 4 and 8 workers.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>
#include <tuple>
#include <vector>

#include "runtimes/fiber/scheduler.h"
#include "runtimes/fiber/test_policy.h"
#include "runtimes/fiber/test_scale.h"
#include "runtimes/fiber/wait_group.h"

#if !defined(SPINDLE_FIBER_TEST_HOOKS)
#error "lifetime_test.cpp needs SPINDLE_FIBER_TEST_HOOKS (set on spindle_fiber_tests in CMakeLists.txt)"
#endif

namespace spindle::fiber {
namespace {

using namespace std::chrono_literals;

class Lifetime : public ::testing::TestWithParam<std::tuple<StackPolicy, int>> {
 protected:
  StackPolicy policy() const { return std::get<0>(GetParam()); }
  int workers() const { return std::get<1>(GetParam()); }
};

// Page: one page of its own for one object; revoke() makes every later access fault.
class Page {
 public:
  Page() : size_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))) {
    mem_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem_ == MAP_FAILED) std::abort();
  }
  ~Page() { munmap(mem_, size_); }
  Page(const Page&) = delete;
  Page& operator=(const Page&) = delete;
  template <class T>
  T* make() { return ::new (mem_) T(); }
  void revoke() {
    if (mprotect(mem_, size_, PROT_NONE) != 0) std::abort();
  }

 private:
  std::size_t size_;
  void* mem_;
};

// wait_for: spins with short sleeps until `flag` == `value`; aborts with `what` after 10 s (a test hook must
// never turn into a hang of its own).
void wait_for(const std::atomic<int>& flag, int value, const char* what) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (flag.load(std::memory_order_acquire) != value) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "lifetime_test: timed out waiting for %s\n", what);
      std::abort();
    }
    std::this_thread::sleep_for(100us);
  }
}

std::atomic<int> phase{0};       // 0 start, 1 done() reached zero (in the hook), 2 the waiter destroyed the group
void* hooked_group = nullptr;    // the group whose zero crossing the hook holds

// Runs in a child process (death-test style): exits 0 when done() never touched the group after the waiter
// returned; a late access dies of SIGSEGV on the revoked page.
void destroy_between_decrement_and_release(StackPolicy policy, int workers) {
  Page page;
  WaitGroup* wg = page.make<WaitGroup>();
  wg->add(1);
  hooked_group = wg;
  test_hooks::after_wait_group_zero = [](void* group) {
    if (group != hooked_group) return;
    phase.store(1, std::memory_order_release);
    wait_for(phase, 2, "the waiter to destroy the group");  // the waiter returns and revokes the page now
  };
  Scheduler s(testing::config(policy, workers));
  s.run([&] {
    std::thread decrementer([wg] { wg->done(); });  // a plain thread: the hook may hold it as long as it likes
    while (phase.load(std::memory_order_acquire) != 1) Scheduler::yield();
    wg->wait();  // the counter is zero: returns at once, and the group may go
    wg->~WaitGroup();
    page.revoke();
    phase.store(2, std::memory_order_release);
    decrementer.join();  // done() finishes here; any access to *wg now faults
  });
  test_hooks::after_wait_group_zero = nullptr;
  std::fputs("done() left the destroyed group alone\n", stderr);
  std::exit(0);
}

TEST_P(Lifetime, WaitGroupIsNotTouchedAfterTheDecrementThatReachedZero) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(destroy_between_decrement_and_release(policy(), workers()), ::testing::ExitedWithCode(0),
              "done\\(\\) left the destroyed group alone");
}

// The same pattern under real scheduling: each round, fibers finish a group (or hand a mutex around) that
// the root destroys the moment its wait (or its last unlock) returns; the page is revoked at once.
// destroy_rounds: runs `round(page)` in the root many times. Each page stays mapped (revoked) until run()
// returned: unmapping could let a later mmap reuse the address and hide a late access.
template <class Round>
void destroy_rounds(StackPolicy policy, int workers, Round round) {
  Scheduler s(testing::config(policy, workers));
  std::vector<std::unique_ptr<Page>> revoked;
  s.run([&] {
    for (std::size_t r = 0; r < testing::scaled(400); ++r) {
      revoked.push_back(std::make_unique<Page>());
      round(s, *revoked.back());
    }
  });
}

constexpr int kTasks = 8;

TEST_P(Lifetime, WaitGroupDestroyedAsSoonAsWaitReturnsManyTimes) {
  destroy_rounds(policy(), workers(), [](Scheduler& s, Page& page) {
    WaitGroup* wg = page.make<WaitGroup>();
    wg->add(kTasks);
    for (int t = 0; t < kTasks; ++t)
      s.spawn([wg, t] {
        if (t % 2) Scheduler::yield();
        wg->done();
      });
    wg->wait();
    wg->~WaitGroup();
    page.revoke();
  });
}

TEST_P(Lifetime, MutexDestroyedAsSoonAsTheLastHolderUnlockedManyTimes) {
  destroy_rounds(policy(), workers(), [](Scheduler& s, Page& page) {
    Mutex* m = page.make<Mutex>();
    WaitGroup holders;
    holders.add(kTasks);
    std::atomic<int> entered{0};
    for (int t = 0; t < kTasks; ++t)
      s.spawn([m, &entered, &holders] {
        m->lock();
        entered.fetch_add(1, std::memory_order_relaxed);
        Scheduler::yield();  // hold it across a switch so the others queue up
        m->unlock();
        holders.done();
      });
    // The root is the last holder: once it has had the mutex after all eight, nobody may touch it.
    while (entered.load(std::memory_order_relaxed) != kTasks) Scheduler::yield();
    m->lock();
    m->unlock();
    m->~Mutex();
    page.revoke();  // the eight may still be returning from unlock(): none of them may touch *m now
    holders.wait();
  });
}

INSTANTIATE_TEST_SUITE_P(Workers, Lifetime, ::testing::Combine(testing::kPolicies, ::testing::Values(1, 2, 4, 8)),
                         testing::PolicyWorkersName());

}  // namespace
}  // namespace spindle::fiber
