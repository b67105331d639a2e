// channel_test.cpp — unit tests of Channel<T>: rendezvous and buffered transfer, FIFO order, Go's close
// semantics (blocked receivers and senders released), fibers and plain threads on either end, values too
// large for the inline wait record.
#include "runtimes/fiber/channel.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "runtimes/fiber/scheduler.h"
#include "runtimes/fiber/test_policy.h"
#include "runtimes/fiber/test_scale.h"
#include "runtimes/fiber/wait_group.h"

namespace spindle::fiber {
namespace {

using testing::scaled;

class ChannelPolicy : public ::testing::TestWithParam<StackPolicy> {};

class ChannelWorkers : public ::testing::TestWithParam<std::tuple<StackPolicy, int>> {
 protected:
  StackPolicy policy() const { return std::get<0>(GetParam()); }
  int workers() const { return std::get<1>(GetParam()); }
};

TEST_P(ChannelWorkers, UnbufferedPingPongKeepsOrder) {
  Scheduler s(testing::config(policy(), workers()));
  const std::int64_t n = static_cast<std::int64_t>(scaled(20000));
  std::int64_t last = -1;
  bool in_order = true;
  s.run([&] {
    Channel<std::int64_t> ping(0), pong(0);
    s.spawn([&] {
      while (auto v = ping.recv()) pong.send(*v + 1);
      pong.close();
    });
    for (std::int64_t i = 0; i < n; ++i) {
      ping.send(2 * i);
      auto r = pong.recv();
      if (!r || *r != 2 * i + 1) in_order = false;
      last = r.value_or(-1);
    }
    ping.close();
    EXPECT_FALSE(pong.recv().has_value());
  });
  EXPECT_TRUE(in_order);
  EXPECT_EQ(last, 2 * (n - 1) + 1);
}

TEST_P(ChannelWorkers, ManyProducersManyConsumersDeliverEveryValueOnce) {
  Scheduler s(testing::config(policy(), workers()));
  const int producers = 8, consumers = 8, per = static_cast<int>(scaled(5000));
  std::atomic<std::int64_t> sum{0}, count{0};
  for (std::size_t capacity : {std::size_t{0}, std::size_t{1}, std::size_t{64}}) {
    sum = 0;
    count = 0;
    s.run([&] {
      Channel<std::int64_t> ch(capacity);
      WaitGroup sent;
      sent.add(producers);
      for (int p = 0; p < producers; ++p)
        s.spawn([&, p] {
          for (int i = 0; i < per; ++i) ch.send(std::int64_t{p} * per + i);
          sent.done();
        });
      WaitGroup drained;  // ch lives in this frame: outlive every consumer
      drained.add(consumers);
      for (int c = 0; c < consumers; ++c)
        s.spawn([&] {
          while (auto v = ch.recv()) {
            sum.fetch_add(*v);
            count.fetch_add(1);
          }
          drained.done();
        });
      sent.wait();
      ch.close();
      drained.wait();
    });
    const std::int64_t n = std::int64_t{producers} * per;
    EXPECT_EQ(count.load(), n) << "capacity " << capacity;
    EXPECT_EQ(sum.load(), n * (n - 1) / 2) << "capacity " << capacity;
  }
}

INSTANTIATE_TEST_SUITE_P(Workers, ChannelWorkers, ::testing::Combine(testing::kPolicies, ::testing::Values(1, 2, 4)),
                         testing::PolicyWorkersName());

TEST_P(ChannelPolicy, BufferedSendDoesNotBlockUntilFullAndIsFifo) {
  Scheduler s(testing::config(GetParam(), 1));
  std::vector<int> got;
  bool blocked_sender_ran_early = false;
  s.run([&] {
    Channel<int> ch(3);
    EXPECT_TRUE(ch.send(1));
    EXPECT_TRUE(ch.send(2));
    EXPECT_TRUE(ch.send(3));  // no receiver exists: three sends fit the buffer
    bool fourth_done = false;
    s.spawn([&] { ch.send(4); fourth_done = true; });
    Scheduler::yield();  // the spawned sender runs and blocks: buffer full
    blocked_sender_ran_early = fourth_done;
    for (int i = 0; i < 4; ++i) got.push_back(*ch.recv());
  });
  EXPECT_FALSE(blocked_sender_ran_early);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TEST_P(ChannelPolicy, CloseDrainsBufferThenReportsClosed) {
  Scheduler s(testing::config(GetParam(), 1));
  s.run([&] {
    Channel<int> ch(4);
    ch.send(7);
    ch.send(8);
    ch.close();
    EXPECT_FALSE(ch.send(9));
    EXPECT_EQ(ch.recv(), 7);
    EXPECT_EQ(ch.recv(), 8);
    EXPECT_EQ(ch.recv(), std::nullopt);
    EXPECT_EQ(ch.recv(), std::nullopt);
    ch.close();  // second close is a no-op
  });
}

TEST_P(ChannelPolicy, CloseReleasesBlockedReceiversAndSenders) {
  Scheduler s(testing::config(GetParam(), 2));
  std::atomic<int> receivers_released{0}, senders_refused{0};
  s.run([&] {
    Channel<int> empty(0), full(0);
    WaitGroup parked;
    parked.add(20);
    for (int i = 0; i < 10; ++i) {
      s.spawn([&] { parked.done(); if (!empty.recv()) receivers_released.fetch_add(1); });
      s.spawn([&] { parked.done(); if (!full.send(1)) senders_refused.fetch_add(1); });
    }
    parked.wait();
    Scheduler::sleep_for(std::chrono::milliseconds(5));  // let them reach the channel and park
    empty.close();
    full.close();
  });
  EXPECT_EQ(receivers_released.load(), 10);
  EXPECT_EQ(senders_refused.load(), 10);
}

TEST_P(ChannelPolicy, PlainThreadsAndFibersTalkBothWays) {
  Scheduler s(testing::config(GetParam(), 2));
  Channel<int> to_fiber(0), to_thread(0);
  std::int64_t thread_sum = 0;
  std::thread outsider([&] {
    for (int i = 1; i <= 1000; ++i) {
      to_fiber.send(i);
      thread_sum += *to_thread.recv();
    }
    to_fiber.close();
  });
  s.run([&] {
    while (auto v = to_fiber.recv()) to_thread.send(*v * 2);
  });
  outsider.join();
  EXPECT_EQ(thread_sum, 2 * 1000 * 1001 / 2);
}

TEST(ChannelWithoutScheduler, WorksBetweenPlainThreads) {
  Channel<std::string> ch(0);
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) ch.send(std::to_string(i));
    ch.close();
  });
  int n = 0;
  while (auto v = ch.recv()) EXPECT_EQ(*v, std::to_string(n++));
  producer.join();
  EXPECT_EQ(n, 100);
}

TEST_P(ChannelPolicy, ValuesLargerThanTheInlineWaitRecordRendezvous) {
  using Big = std::array<std::int64_t, 32>;  // 256 bytes: the wait record goes to the heap
  Scheduler s(testing::config(GetParam(), 2));
  std::int64_t total = 0;
  s.run([&] {
    Channel<Big> ch(0);
    for (int k = 0; k < 10; ++k)
      s.spawn([&ch, k] {
        Big b{};
        b.fill(k);
        ch.send(b);
      });
    for (int k = 0; k < 10; ++k) {
      Big b = *ch.recv();
      for (auto v : b) total += v;
    }
  });
  EXPECT_EQ(total, 32 * 45);
}

INSTANTIATE_TEST_SUITE_P(Policies, ChannelPolicy, testing::kPolicies, testing::PolicyName());

}  // namespace
}  // namespace spindle::fiber
