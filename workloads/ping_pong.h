// ping_pong.h — `ping-pong`: each of `pairs` pairs exchanges a value over two unbuffered channels
// `round-trips` times; the ponger answers v+1 and the pinger checks it. op = one round trip.
#pragma once

#include <atomic>
#include <memory>

#include "workloads/workload.h"

namespace spindle {

struct PingPong {
  static constexpr std::string_view name = "ping-pong";
  static constexpr std::string_view summary = "pairs exchange a value over two unbuffered channels";
  static constexpr std::string_view op = "one round trip (two channel hand-offs)";
  static constexpr MainFigure main_figure{"ns_per_op", "ns/op"};
  static std::vector<ParamSpec> params() {
    return {{"pairs", 1, 1, 100'000, "independent ping-pong pairs"},
            {"round-trips", 100'000, 1, 1'000'000'000, "round trips per pair"}};
  }
  static Requirements requirements(const ParamValues& p) {
    return {.blocking_channels = true, .concurrent_tasks = std::uint64_t(2 * p.at("pairs"))};
  }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    using Chan = typename R::template Channel<std::int64_t>;
    const std::int64_t pairs = p.at("pairs"), trips = p.at("round-trips");
    std::atomic<std::int64_t> good{0};
    typename R::WaitGroup wg;
    rt.run([&] {
      wg.add(pairs);
      for (std::int64_t k = 0; k < pairs; ++k) {
        // Channels live on the heap, shared by the pair: never on a task's stack.
        auto ping = std::make_shared<Chan>(0), pong = std::make_shared<Chan>(0);
        rt.spawn([ping, pong] {
          while (auto v = ping->recv()) pong->send(*v + 1);
        });
        rt.spawn([ping, pong, trips, &good, &wg] {
          std::int64_t ok = 0;
          for (std::int64_t i = 0; i < trips; ++i) {
            ping->send(i);
            auto v = pong->recv();
            ok += (v && *v == i + 1);
          }
          ping->close();
          good.fetch_add(ok, std::memory_order_relaxed);
          wg.done();
        });
      }
      wg.wait();
    });
    WorkloadResult r = passed(std::uint64_t(pairs * trips), std::uint64_t(2 * pairs));
    expect(r, "correct replies", pairs * trips, good.load());
    return r;
  }
};

}  // namespace spindle
