// net_test.cpp — the `net` capability on every runtime that has it (runtimes/os/net.h): a round trip, and
// the faults a server meets — a refused connection, a reset, a peer closing mid-message, a deadline —
// each an error naming the operation and the reason, never a hang. Also the latency histogram's bucket
// math (the same scheme as runtimes/go/histogram.go).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <string>

#include "tests/unit/runtime_list.h"
#include "workloads/latency_histogram.h"

namespace spindle::testing {
namespace {

using namespace std::chrono_literals;

template <class R>
class NetFaults : public ::testing::Test {};
using NetRuntimes = ::testing::Types<ThreadRuntime, FiberRuntime, FiberCopyRuntime>;
TYPED_TEST_SUITE(NetFaults, NetRuntimes, RuntimeNames);

os::Deadline in(std::chrono::nanoseconds d) { return std::chrono::steady_clock::now() + d; }

// error_of: runs `body` as the root task of a fresh runtime and returns the message it threw ("" if none).
template <class R, class F>
std::string error_of(F body) {
  R rt(options());
  std::string error;
  rt.run([&] {
    try {
      body();
    } catch (const os::NetError& e) {
      error = e.what();
    }
  });
  return error;
}

TYPED_TEST(NetFaults, RoundTripThenOrderlyClose) {
  using Net = typename TypeParam::Net;
  EXPECT_EQ(error_of<TypeParam>([] {
              auto l = Net::listen(4);
              auto c = Net::connect(Net::port(l), in(10s));
              auto s = Net::accept(l, in(10s));
              Net::write_all(c, "ping", 4, in(10s));
              char buf[4];
              Net::read_exact(s, buf, 4, in(10s));
              EXPECT_EQ(std::string(buf, 4), "ping");
              c.close();
              EXPECT_EQ(Net::read_some(s, buf, 4, in(10s)), 0u);  // EOF, not an error
            }),
            "");
}

TYPED_TEST(NetFaults, RefusedConnectionNamesThePort) {
  using Net = typename TypeParam::Net;
  std::uint16_t port = 0;
  {
    auto l = Net::listen(1);  // a port nobody listens on once this closes
    port = Net::port(l);
  }
  std::string error = error_of<TypeParam>([&] { Net::connect(port, in(10s)); });
  EXPECT_EQ(error, "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TYPED_TEST(NetFaults, ResetIsAReadError) {
  using Net = typename TypeParam::Net;
  std::string error = error_of<TypeParam>([] {
    auto l = Net::listen(1);
    auto c = Net::connect(Net::port(l), in(10s));
    auto s = Net::accept(l, in(10s));
    linger hard{1, 0};  // close with RST
    setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    c.close();
    char b;
    Net::read_some(s, &b, 1, in(10s));
  });
  EXPECT_EQ(error, "read: Connection reset by peer");
}

TYPED_TEST(NetFaults, PeerClosingMidMessageIsAnError) {
  using Net = typename TypeParam::Net;
  std::string error = error_of<TypeParam>([] {
    auto l = Net::listen(1);
    auto c = Net::connect(Net::port(l), in(10s));
    auto s = Net::accept(l, in(10s));
    Net::write_all(c, "abc", 3, in(10s));
    c.close();
    char buf[8];
    Net::read_exact(s, buf, sizeof buf, in(10s));
  });
  EXPECT_EQ(error, "read: the peer closed the connection mid-message");
}

TYPED_TEST(NetFaults, ASilentPeerEndsAtTheDeadline) {
  using Net = typename TypeParam::Net;
  auto t0 = std::chrono::steady_clock::now();
  std::string error = error_of<TypeParam>([] {
    auto l = Net::listen(1);
    auto c = Net::connect(Net::port(l), in(300ms));
    auto s = Net::accept(l, in(300ms));
    char b;
    Net::read_some(s, &b, 1, in(300ms));
  });
  EXPECT_EQ(error, "read: deadline passed (the case's socket timeout)");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

TEST(LatencyHistogram, BucketsFollowTheSharedScheme) {
  EXPECT_EQ(LatencyHistogram::bucket(0), 0);
  EXPECT_EQ(LatencyHistogram::bucket(127), 127);
  EXPECT_EQ(LatencyHistogram::bucket(128), 128);
  EXPECT_EQ(LatencyHistogram::bucket(129), 128);  // [128, 130) share a bucket: width 2 at msb 7
  EXPECT_EQ(LatencyHistogram::bucket(~std::uint64_t{0}), LatencyHistogram::kBuckets - 1);
  EXPECT_EQ(LatencyHistogram::bucket_value(128), 129u);
  for (std::uint64_t v : {1ull, 200ull, 1'000ull, 123'456ull, 98'765'432'1ull, 1ull << 40}) {
    const std::uint64_t top = LatencyHistogram::bucket_value(LatencyHistogram::bucket(v));
    EXPECT_GE(top, v);
    EXPECT_LE(double(top - v), double(v) / 64.0) << v;  // relative precision 1/64
  }
}

TEST(LatencyHistogram, PercentilesAndMax) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v * 1000);
  EXPECT_EQ(h.total(), 100u);
  EXPECT_EQ(h.max(), 100'000u);
  const std::uint64_t p50 = h.percentile(500), p99 = h.percentile(990);
  EXPECT_GE(p50, 50'000u);
  EXPECT_LE(double(p50), 50'000 * (1 + 1 / 64.0));
  EXPECT_GE(p99, 99'000u);
  EXPECT_LE(double(p99), 99'000 * (1 + 1 / 64.0));
  EXPECT_EQ(LatencyHistogram().percentile(990), 0u);
  LatencyHistogram k;  // rank at an exact multiple: p99.9 of 1,000 values is the 999th
  for (std::uint64_t v = 1; v <= 1000; ++v) k.record(v);
  EXPECT_EQ(k.percentile(999), LatencyHistogram::bucket_value(LatencyHistogram::bucket(999)));
}

}  // namespace
}  // namespace spindle::testing
