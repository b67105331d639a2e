// stack_pool_test.cpp — unit tests of StackPool: sizes, LIFO reuse, lazy commit, few mappings for many
// stacks, guard pages that fault, zero canaries that the switch-time check catches; policy names; SharedStack.
#include "runtimes/fiber/stack_pool.h"
#include "runtimes/fiber/test_scale.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace spindle::fiber {
namespace {

long resident_pages() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  in >> size >> resident;
  return resident;
}

TEST(StackPool, RoundsSizesToPagesWithAMinimum) {
  EXPECT_EQ(StackPool(StackPool::Options{.stack_size = 1}).stack_size(), kMinStackSize);
  EXPECT_EQ(StackPool(StackPool::Options{.stack_size = kMinStackSize + 1}).stack_size(), kMinStackSize + page_size());
  EXPECT_EQ(StackPool(StackPool::Options{}).stack_size(), kDefaultStackSize);
}

TEST(StackPool, HandsOutDistinctWritableStacksAndReusesLifo) {
  StackPool pool(StackPool::Options{.stack_size = 64 * 1024});
  auto batch = pool.take(100);
  ASSERT_EQ(batch.size(), 100u);
  std::set<char*> bases;
  std::vector<Stack*> stacks;
  std::set<std::uintptr_t> l2_sets;  // where each top falls in a 1 MiB, 8-way L2 (2,048 sets of 64 bytes)
  while (Stack* s = batch.pop()) {
    EXPECT_EQ(s->size, 64u * 1024);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(s->top()) % 16, 0u);
    EXPECT_GE(s->usable() + page_size(), s->size);  // colouring never takes from the stack asked for
    std::memset(s->bottom(), 0xAB, s->usable());  // the whole usable range is writable
    bases.insert(s->base);
    stacks.push_back(s);
    l2_sets.insert((reinterpret_cast<std::uintptr_t>(s->top()) - 1) / 64 % 2048);
  }
  EXPECT_EQ(bases.size(), 100u);
  // Cache colouring: 64 KiB-aligned tops would share 2 sets; coloured ones spread over many.
  EXPECT_GE(l2_sets.size(), 64u);
  IntrusiveStack<Stack> one;
  one.push(stacks[42]);
  pool.give(one);
  auto again = pool.take(1);
  EXPECT_EQ(again.pop(), stacks[42]);
}

TEST(StackPool, StacksAreCommittedLazily) {
  StackPool pool(StackPool::Options{.stack_size = 256 * 1024});
  long before = resident_pages();
  auto batch = pool.take(2000);  // 500 MiB of address space
  EXPECT_EQ(batch.size(), 2000u);
  long grown = resident_pages() - before;
  // Only the pool's bookkeeping may become resident, far below one page per stack.
  EXPECT_LT(grown, 2000 / 4) << grown << " pages became resident";
  EXPECT_GE(pool.stacks_created(), 2000u);
}

TEST(StackPool, AMillionStacksTakeAFewMappings) {
  StackPool pool(StackPool::Options{.stack_size = kMinStackSize, .guard_pages = false});
  std::size_t taken = 0;
  std::vector<IntrusiveStack<Stack>> held;
  while (taken < testing::scaled(1'000'000)) {
    held.push_back(pool.take(4096));
    taken += held.back().size();
  }
  EXPECT_LE(pool.slabs(), 30u);
}

TEST(GuardBudget, LeavesAMarginBelowTheKernelLimit) {
  std::ifstream in("/proc/sys/vm/max_map_count");
  long max_maps = 0;
  in >> max_maps;
  EXPECT_GT(GuardBudget::initial(), 0);
  EXPECT_LE(GuardBudget::initial() * 2, max_maps - 4096);
}

TEST(StackPoolDeathTest, GuardPageFaultsOnOverflow) {
  StackPool pool(StackPool::Options{.stack_size = 64 * 1024});
  auto batch = pool.take(1);
  Stack* s = batch.pop();
  ASSERT_TRUE(s->guarded);
  EXPECT_DEATH(
      {
        volatile char* below = s->base + 16;
        *below = 1;
      },
      "");
}

TEST(StackPoolDeathTest, SwitchOutCheckCatchesAnOverwrittenCanary) {
  StackPool pool(StackPool::Options{.stack_size = 64 * 1024, .guard_pages = false});
  auto batch = pool.take(1);
  Stack* s = batch.pop();
  ASSERT_FALSE(s->guarded);
  check_on_switch_out(*s, s->top() - 128);  // intact canary: returns
  EXPECT_DEATH(
      {
        s->base[8] = 0x5A;
        check_on_switch_out(*s, s->top() - 128);
      },
      "stack overflow.*65536-byte stack.*canary");
  EXPECT_DEATH(check_on_switch_out(*s, s->base + 8), "stack overflow.*65536-byte stack");
}

TEST(StackPolicy, ParsesKnownNames) {
  EXPECT_EQ(parse_stack_policy(""), StackPolicy::pooled);
  EXPECT_EQ(parse_stack_policy("pooled"), StackPolicy::pooled);
  EXPECT_EQ(parse_stack_policy("copy"), StackPolicy::copy);
  EXPECT_EQ(parse_stack_policy("bogus"), std::nullopt);
  EXPECT_STREQ(stack_policy_name(StackPolicy::copy), "copy");
}

TEST(SharedStack, IsOneGuardedLazilyCommittedMapping) {
  SharedStack shared(100 * 1024);
  EXPECT_EQ(shared.stack.size, 100u * 1024 / page_size() * page_size() + (100 * 1024 % page_size() ? page_size() : 0));
  EXPECT_TRUE(shared.stack.shared);
  EXPECT_TRUE(shared.stack.guarded);
  EXPECT_EQ(&SharedStack::of(shared.stack), &shared);
  // Resident pages of the mapping itself (mincore), not of the process: other threads (the test watchdog,
  // the sanitizers' own) may touch memory meanwhile.
  auto resident_in_stack = [&] {
    std::vector<unsigned char> in_core(shared.stack.size / page_size());
    EXPECT_EQ(mincore(shared.stack.base, shared.stack.size, in_core.data()), 0);
    return std::count_if(in_core.begin(), in_core.end(), [](unsigned char c) { return c & 1; });
  };
  EXPECT_EQ(resident_in_stack(), 0);
  std::memset(shared.stack.top() - 100, 1, 100);  // one page touched
  EXPECT_EQ(resident_in_stack(), 1) << "of " << shared.stack.size / page_size() << " pages";
}

}  // namespace
}  // namespace spindle::fiber
