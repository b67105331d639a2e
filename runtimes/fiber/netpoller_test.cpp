// netpoller_test.cpp — the netpoller under load: many loopback connections echoing random-sized messages
// between fibers (every byte checked), under both stack policies and 1, 2, 4 and 8 workers; deadlines;
// readiness delivered while every worker is busy with CPU work; a peer closing mid-message;
// a plain thread's socket wait. Sizes shrink under the sanitizers (test_scale.h).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

#include "runtimes/fiber/fiber_runtime.h"
#include "runtimes/fiber/test_policy.h"
#include "runtimes/fiber/test_scale.h"
#include "runtimes/fiber/wait_group.h"

namespace spindle::fiber {
namespace {

using namespace std::chrono_literals;
using Net = FiberRuntime::Net;

os::Deadline in(std::chrono::nanoseconds d) { return std::chrono::steady_clock::now() + d; }

class Netpoll : public ::testing::TestWithParam<std::tuple<StackPolicy, int>> {
 protected:
  StackPolicy policy() const { return std::get<0>(GetParam()); }
  int workers() const { return std::get<1>(GetParam()); }
};

std::uint8_t byte_of(int conn, int msg, std::size_t i) { return static_cast<std::uint8_t>(conn * 131 + msg * 17 + i); }

TEST_P(Netpoll, ManyConnectionsEchoRandomSizesIntact) {
  Scheduler s(testing::config(policy(), workers()));
  const int conns = static_cast<int>(testing::live_fibers(200)), messages = static_cast<int>(testing::scaled(40));
  std::atomic<std::int64_t> checked{0}, served{0};
  s.run([&] {
    auto listener = std::make_shared<Net::Socket>(Net::listen(conns));
    const std::uint16_t port = Net::port(*listener);
    s.spawn([&, listener] {
      for (int i = 0; i < conns; ++i) {
        auto c = std::make_shared<Net::Socket>(Net::accept(*listener, in(30s)));
        s.spawn([c, &served] {
          std::vector<char> buf(3000);
          while (std::size_t n = Net::read_some(*c, buf.data(), buf.size(), in(30s))) {
            if (n % 3 == 0) Scheduler::yield();  // interleave with other fibers mid-stream
            Net::write_all(*c, buf.data(), n, in(30s));
          }
          served.fetch_add(1);
        });
      }
    });
    for (int c = 0; c < conns; ++c)
      s.spawn([&, c, port] {  // port by value: the root's frame is gone when clients run
        // Under `copy` a fiber's stack is not addressable by other fibers while it is parked (README): what
        // the writer fiber shares with this one lives on the heap.
        struct Shared {
          Net::Socket sock;
          std::vector<char> out;
          WaitGroup wrote;
        };
        auto sh = std::make_shared<Shared>();
        sh->sock = Net::connect(port, in(30s));
        std::mt19937 rng(static_cast<unsigned>(c));
        for (int m = 0; m < messages; ++m) {
          const std::size_t size = 1 + rng() % (m % 7 == 0 ? 200'000 : 2'000);  // some exceed socket buffers
          sh->out.resize(size);
          for (std::size_t i = 0; i < size; ++i) sh->out[i] = static_cast<char>(byte_of(c, m, i));
          // A second fiber writes while this one reads, so big messages cannot deadlock on full buffers.
          sh->wrote.add(1);
          s.spawn([sh] {
            Net::write_all(sh->sock, sh->out.data(), sh->out.size(), in(30s));
            sh->wrote.done();
          });
          std::vector<char> back(size);
          Net::read_exact(sh->sock, back.data(), size, in(30s));
          sh->wrote.wait();
          ASSERT_EQ(back, sh->out) << "connection " << c << " message " << m;
          checked.fetch_add(1);
        }
      });
  });
  EXPECT_EQ(checked.load(), std::int64_t{conns} * messages);
  EXPECT_EQ(served.load(), conns);
}

// One conversation, many round trips: the two fibers' readiness must keep flowing whichever worker polls
// (a non-blocking poll beside the blocked poller, busy-worker polls, hand-offs between workers).
TEST_P(Netpoll, OneConnectionManyRoundTrips) {
  Scheduler s(testing::config(policy(), workers()));
  const int trips = static_cast<int>(testing::scaled(20'000));
  std::atomic<int> good{0};
  s.run([&] {
    auto listener = std::make_shared<Net::Socket>(Net::listen(1));
    const std::uint16_t port = Net::port(*listener);
    s.spawn([listener] {
      auto c = Net::accept(*listener, in(30s));
      char buf[64];
      while (std::size_t n = Net::read_some(c, buf, sizeof buf, in(30s))) Net::write_all(c, buf, n, in(30s));
    });
    s.spawn([&good, port, trips] {
      auto c = Net::connect(port, in(30s));
      char out[64], back[64];
      for (int i = 0; i < trips; ++i) {
        std::memset(out, i & 0xFF, sizeof out);
        Net::write_all(c, out, sizeof out, in(30s));
        Net::read_exact(c, back, sizeof back, in(30s));
        good += std::memcmp(out, back, sizeof out) == 0;
      }
    });
  });
  EXPECT_EQ(good.load(), trips);
}

TEST_P(Netpoll, ReadWithoutDataTimesOutAtItsDeadline) {
  Scheduler s(testing::config(policy(), workers()));
  std::string error;
  std::chrono::steady_clock::duration waited{};
  s.run([&] {
    auto listener = Net::listen(1);
    auto client = Net::connect(Net::port(listener), in(10s));
    auto server = Net::accept(listener, in(10s));
    char b;
    auto t0 = std::chrono::steady_clock::now();
    try {
      Net::read_some(server, &b, 1, in(200ms));
    } catch (const os::NetError& e) {
      error = e.what();
    }
    waited = std::chrono::steady_clock::now() - t0;
  });
  EXPECT_NE(error.find("read: deadline passed"), std::string::npos) << error;
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 5s);  // the sweep runs every Netpoller::kSweepNs; generous for loaded sanitizer runs
}

TEST_P(Netpoll, ReadinessReachesAParkedReaderWhileEveryWorkerIsBusy) {
  Scheduler s(testing::config(policy(), workers()));
  std::atomic<bool> got{false};
  std::atomic<bool> stop{false};
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
  std::thread writer;
  s.run([&] {
    auto reader = std::make_shared<Net::Socket>(pair[0]);
    // Busy fibers: as many as workers, yielding but never idle, so nobody blocks in epoll_wait.
    for (int i = 0; i < workers(); ++i)
      s.spawn([&] {
        while (!stop.load()) Scheduler::yield();
      });
    s.spawn([&, reader] {
      char b = 0;
      got = Net::read_some(*reader, &b, 1, in(30s)) == 1 && b == 'x';
      stop = true;
    });
    writer = std::thread([&] {
      std::this_thread::sleep_for(50ms);
      ASSERT_EQ(::write(pair[1], "x", 1), 1);
    });
  });
  writer.join();
  ::close(pair[1]);
  EXPECT_TRUE(got.load());
}

TEST_P(Netpoll, APeerClosingMidMessageFailsTheParkedReader) {
  Scheduler s(testing::config(policy(), workers()));
  std::string error;
  s.run([&] {
    auto listener = Net::listen(1);
    auto client = std::make_shared<Net::Socket>(Net::connect(Net::port(listener), in(10s)));
    auto server = std::make_shared<Net::Socket>(Net::accept(listener, in(10s)));
    WaitGroup finished;
    finished.add(1);
    s.spawn([&, server] {
      char buf[8];
      try {
        Net::read_exact(*server, buf, sizeof buf, in(30s));  // gets 3 of 8 bytes, then the close
      } catch (const os::NetError& e) {
        error = e.what();
      }
      finished.done();
    });
    Net::write_all(*client, "abc", 3, in(10s));
    Scheduler::sleep_for(20ms);  // let the reader park for the rest
    client->close();
    finished.wait();
  });
  EXPECT_EQ(error, "read: the peer closed the connection mid-message");
}

INSTANTIATE_TEST_SUITE_P(Workers, Netpoll, ::testing::Combine(testing::kPolicies, ::testing::Values(1, 2, 4, 8)),
                         testing::PolicyWorkersName());

TEST(NetpollPlainThread, APlainThreadWaitsOnTheNetpollerWhileFibersPoll) {
  Scheduler s(testing::config(StackPolicy::pooled, 2));
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
  PollDesc* pd = s.netpoller().open(pair[0]);
  std::atomic<bool> ready{false};
  std::thread waiter([&] { ready = s.netpoller().wait(pd, false, Netpoller::kNoDeadline); });
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(::write(pair[1], "x", 1), 1);
  // Workers poll only while sockets are registered and they run or idle: keep one fiber idle-polling.
  s.run([&] {
    while (!ready.load()) Scheduler::sleep_for(1ms);
  });
  waiter.join();
  EXPECT_TRUE(ready.load());
  s.netpoller().close(pd);
  ::close(pair[0]);
  ::close(pair[1]);
}

}  // namespace
}  // namespace spindle::fiber
