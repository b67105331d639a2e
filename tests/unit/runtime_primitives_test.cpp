// runtime_primitives_test.cpp — every adapter's primitives through the Runtime concept: wait group,
// channel order and rendezvous, Go's close semantics, many tasks, exceptions surfacing from run().
#include <atomic>
#include <memory>
#include <stdexcept>
#include <vector>

#include "tests/unit/runtime_list.h"

namespace spindle::testing {
namespace {

template <class R>
class RuntimePrimitives : public ::testing::Test {};
TYPED_TEST_SUITE(RuntimePrimitives, AllRuntimes, RuntimeNames);

static_assert(Runtime<ThreadRuntime> && Runtime<PoolRuntime> && Runtime<FiberRuntime> && Runtime<BoostFiberRuntime>);

TYPED_TEST(RuntimePrimitives, WaitGroupWaitsForManyTasks) {
  TypeParam rt(options());
  constexpr int kTasks = 2000;
  std::atomic<int> done{0};
  int seen_at_wait = -1;
  typename TypeParam::WaitGroup wg;
  rt.run([&] {
    wg.add(kTasks);
    for (int i = 0; i < kTasks; ++i)
      rt.spawn([&] {
        done.fetch_add(1);
        wg.done();
      });
    wg.wait();
    seen_at_wait = done.load();
  });
  EXPECT_EQ(seen_at_wait, kTasks);
}

TYPED_TEST(RuntimePrimitives, RunWaitsForEveryTaskSpawnedTransitively) {
  TypeParam rt(options());
  std::atomic<int> leaves{0};
  rt.run([&] {
    for (int i = 0; i < 10; ++i)
      rt.spawn([&] {
        for (int j = 0; j < 10; ++j) rt.spawn([&] { leaves.fetch_add(1); });
      });
  });
  EXPECT_EQ(leaves.load(), 100);
}

TYPED_TEST(RuntimePrimitives, BufferedChannelKeepsFifoOrderAndDrainsAfterClose) {
  TypeParam rt(options());
  typename TypeParam::template Channel<std::int64_t> ch(16);
  std::vector<std::int64_t> got;
  bool send_after_close = true;
  rt.run([&] {
    for (std::int64_t i = 0; i < 10; ++i) ASSERT_TRUE(ch.send(i));
    ch.close();
    send_after_close = ch.send(99);
    while (auto v = ch.recv()) got.push_back(*v);
  });
  EXPECT_FALSE(send_after_close);
  ASSERT_EQ(got.size(), 10u);
  for (std::int64_t i = 0; i < 10; ++i) EXPECT_EQ(got[std::size_t(i)], i);
}

TYPED_TEST(RuntimePrimitives, ChannelAcrossTasksDeliversEveryValueInOrder) {
  TypeParam rt(options());
  if (!TypeParam::caps.blocking_channels) GTEST_SKIP() << TypeParam::name << " cannot block a task in a channel";
  auto ch = std::make_shared<typename TypeParam::template Channel<std::int64_t>>(0);
  std::vector<std::int64_t> got;
  rt.run([&] {
    rt.spawn([ch] {
      for (std::int64_t i = 0; i < 1000; ++i) ch->send(i);
      ch->close();
    });
    while (auto v = ch->recv()) got.push_back(*v);
  });
  ASSERT_EQ(got.size(), 1000u);
  for (std::int64_t i = 0; i < 1000; ++i) ASSERT_EQ(got[std::size_t(i)], i);
}

TYPED_TEST(RuntimePrimitives, UnbufferedSendWaitsForTheReceiver) {
  TypeParam rt(options());
  if (!TypeParam::caps.blocking_channels) GTEST_SKIP() << TypeParam::name << " cannot block a task in a channel";
  auto ch = std::make_shared<typename TypeParam::template Channel<std::int64_t>>(0);
  std::atomic<bool> received{false};
  bool received_when_send_returned = false;
  rt.run([&] {
    rt.spawn([&, ch] {
      ch->send(7);
      received_when_send_returned = received.load();
    });
    TypeParam::sleep_for(std::chrono::milliseconds(20));
    received.store(true);
    EXPECT_EQ(ch->recv().value_or(-1), 7);
  });
  EXPECT_TRUE(received_when_send_returned);
}

TYPED_TEST(RuntimePrimitives, CloseWakesEveryBlockedReceiver) {
  TypeParam rt(options());
  if (!TypeParam::caps.parking) GTEST_SKIP() << TypeParam::name << " cannot park tasks";
  auto ch = std::make_shared<typename TypeParam::template Channel<std::int64_t>>(0);
  std::atomic<int> woke{0};
  typename TypeParam::WaitGroup parked;
  rt.run([&] {
    parked.add(50);
    for (int i = 0; i < 50; ++i)
      rt.spawn([&, ch] {
        parked.done();
        if (!ch->recv()) woke.fetch_add(1);
      });
    parked.wait();
    ch->close();
  });
  EXPECT_EQ(woke.load(), 50);
}

TYPED_TEST(RuntimePrimitives, ExceptionInATaskIsRethrownFromRun) {
  TypeParam rt(options());
  try {
    rt.run([&] { rt.spawn([] { throw std::runtime_error("boom in a task"); }); });
    ADD_FAILURE() << "run() returned normally";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("boom in a task"), std::string::npos) << e.what();
  }
  // A fresh runtime works afterwards (the harness makes one per repetition).
  TypeParam again(options());
  std::atomic<int> ran{0};
  again.run([&] { ran.fetch_add(1); });
  EXPECT_EQ(ran.load(), 1);
}

TYPED_TEST(RuntimePrimitives, YieldLetsOtherTasksRun) {
  TypeParam rt(options());
  if (!TypeParam::caps.yield) GTEST_SKIP() << TypeParam::name << " has no task yield";
  std::atomic<int> count{0};
  rt.run([&] {
    for (int t = 0; t < 8; ++t)
      rt.spawn([&] {
        for (int i = 0; i < 100; ++i) {
          TypeParam::yield();
          count.fetch_add(1);
        }
      });
  });
  EXPECT_EQ(count.load(), 800);
}

}  // namespace
}  // namespace spindle::testing
