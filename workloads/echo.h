// echo.h — `echo`: a loopback TCP echo server and its clients, a task per connection on each side. An accept
// task spawns one server task per accepted connection, echoing whatever it reads until EOF; one client task
// per connection sends `bytes` bytes, reads the echo back in full and checks every byte, `messages` times.
// op = one round trip. Latency per round trip goes into one log-bucketed histogram (latency_histogram.h);
// with `rate` > 0 the clients run open loop: each send has a scheduled time and its latency is measured
// from that time, not from the actual send (wrk2's correction for coordinated omission). When both ends of
// every connection do not fit in one process's RLIMIT_NOFILE, the clients run in a second process of the
// same runtime (net_common.h), and the figures come from that process's clock.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "workloads/latency_histogram.h"
#include "workloads/net_common.h"
#include "workloads/workload.h"

namespace spindle {

struct Echo {
  static constexpr std::string_view name = "echo";
  static constexpr std::string_view summary = "loopback TCP echo, a task per connection on each side; latency percentiles";
  static constexpr std::string_view op = "one round trip (bytes out and back over loopback TCP)";
  static constexpr MainFigure main_figure{"round_trips_per_second", "round trips/s", "latency_p99_ns", "ns p99"};
  static std::vector<ParamSpec> params() {
    return {{"connections", 100, 1, 100'000, "concurrent connections (a client and a server task each)"},
            {"messages", 1'000, 1, 1'000'000'000, "round trips per connection"},
            {"bytes", 64, 1, 1 << 20, "bytes per message"},
            {"rate", 0, 0, 1'000'000'000, "round trips per second in total, open loop; 0 = closed loop"}};
  }
  static Requirements requirements(const ParamValues& p) {
    const auto c = std::uint64_t(p.at("connections"));
    return {.parking = true, .net = true, .concurrent_tasks = 2 * c + 1, .connections = c};
  }

  // Clients: what the client side measured.
  struct Clients {
    std::int64_t good = 0;                 // round trips whose every byte came back
    std::int64_t connections_reached = 0;  // clients that finished all their messages
    double seconds = 0;                    // first connect to last client done
    std::string first_error;
  };

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    if constexpr (!NetRuntime<R>) {
      throw std::logic_error("echo needs the net capability");
    } else {
      using Net = typename R::Net;
      const std::int64_t conns = p.at("connections"), messages = p.at("messages");
      LatencyHistogram hist;
      Clients clients;
      std::atomic<std::int64_t> served{0};
      const int listen_fd = os::loopback_listen(static_cast<int>(std::min<std::int64_t>(conns, 4096)), Net::nonblocking);
      const std::uint16_t port = os::local_port(listen_fd);
      if (!client_in_second_process(std::uint64_t(conns))) {
        rt.run([&] {
          serve(rt, listen_fd, conns, served);
          clients = run_clients(rt, p, port, hist);
        });
      } else {
        ChildProcess child([&](const ChildProcess::Channel& ch) {
          ::close(listen_fd);
          R client_rt(options_of(rt));
          Clients c;
          client_rt.run([&] { c = run_clients(client_rt, p, port, hist); });
          ch.send(encode(c, hist));
        });
        rt.run([&] { serve(rt, listen_fd, conns, served); });
        decode(child.expect(), clients, hist);
        child.join();
      }
      WorkloadResult r = passed(std::uint64_t(conns * messages), std::uint64_t(2 * conns));
      const double rt_per_s = clients.seconds > 0 ? double(clients.good) / clients.seconds : 0;
      r.counters["round_trips_per_second"] = rt_per_s;
      r.counters["latency_p50_ns"] = double(hist.percentile(500));
      r.counters["latency_p90_ns"] = double(hist.percentile(900));
      r.counters["latency_p99_ns"] = double(hist.percentile(990));
      r.counters["latency_p999_ns"] = double(hist.percentile(999));
      r.counters["latency_max_ns"] = double(hist.max());
      r.counters["connections_reached"] = double(clients.connections_reached);
      r.counters["client_process"] = client_in_second_process(std::uint64_t(conns)) ? 1 : 0;
      expect(r, "round trips with every byte echoed", conns * messages, clients.good);
      expect(r, "connections that finished", conns, clients.connections_reached);
      expect(r, "server tasks that saw their client close", conns, served.load());
      if (!clients.first_error.empty()) {
        r.checksum_ok = false;
        r.checksum_detail += (r.checksum_detail.empty() ? "" : "; ") + clients.first_error;
      }
      return r;
    }
  }

 private:
  static char pattern(std::int64_t conn, std::int64_t m, std::size_t i) {
    return static_cast<char>((conn * 31 + m * 7 + std::int64_t(i)) & 0xFF);
  }

  // serve: inside a task of `rt`: one echo task per accepted connection.
  template <class R>
  static void serve(R& rt, int listen_fd, std::int64_t conns, std::atomic<std::int64_t>& served) {
    serve_each_connection(rt, listen_fd, conns, [&served](typename R::Net::Socket& conn) {
      echo_back<typename R::Net>(conn);
      served.fetch_add(1, std::memory_order_relaxed);
    });
  }

  // echo_back: one server task: echoes what it reads until the client closes.
  template <class Net>
  static void echo_back(typename Net::Socket& conn) {
    std::vector<char> buf(16 * 1024);
    for (;;) {
      std::size_t n = Net::read_some(conn, buf.data(), buf.size(), socket_deadline());
      if (n == 0) return;
      Net::write_all(conn, buf.data(), n, socket_deadline());
    }
  }

  // run_clients: inside a task of `rt`: one client task per connection; returns when all finished.
  template <class R>
  static Clients run_clients(R& rt, const ParamValues& p, std::uint16_t port, LatencyHistogram& hist) {
    using Net = typename R::Net;
    using Clock = std::chrono::steady_clock;
    const std::int64_t conns = p.at("connections"), messages = p.at("messages"), rate = p.at("rate");
    const auto bytes = static_cast<std::size_t>(p.at("bytes"));
    // Open loop: connection c's k-th send is due at start + c*interval/conns + k*interval.
    const auto interval = rate > 0 ? std::chrono::nanoseconds(std::int64_t(1e9 * double(conns) / double(rate)))
                                   : std::chrono::nanoseconds(0);
    std::atomic<std::int64_t> good{0}, reached{0};
    std::atomic<bool> failed{false};
    std::string first_error;
    typename R::WaitGroup done;
    done.add(conns);
    const auto start = Clock::now();
    for (std::int64_t c = 0; c < conns; ++c) {
      rt.spawn([&, c] {
        std::int64_t ok = 0;
        try {
          auto s = Net::connect(port, socket_deadline());
          std::vector<char> out(bytes), in(bytes);
          const auto phase = interval * c / std::max<std::int64_t>(conns, 1);
          for (std::int64_t m = 0; m < messages; ++m) {
            for (std::size_t i = 0; i < bytes; ++i) out[i] = pattern(c, m, i);
            auto t0 = Clock::now();
            if (rate > 0) {
              const auto due = start + phase + interval * m;
              if (due > t0) R::sleep_for(due - t0);
              t0 = due;  // latency from the scheduled send
            }
            Net::write_all(s, out.data(), bytes, socket_deadline());
            Net::read_exact(s, in.data(), bytes, socket_deadline());
            hist.record(std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
            if (std::memcmp(in.data(), out.data(), bytes) != 0) throw std::runtime_error("an echoed byte differs");
            ++ok;
          }
          reached.fetch_add(1, std::memory_order_relaxed);
        } catch (const std::exception& e) {
          if (!failed.exchange(true)) first_error = "connection " + std::to_string(c) + ": " + e.what();
        }
        good.fetch_add(ok, std::memory_order_relaxed);
        done.done();
      });
    }
    done.wait();
    Clients out;
    out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    out.good = good.load();
    out.connections_reached = reached.load();
    out.first_error = first_error;
    return out;
  }

  // encode/decode: the client process's answer, one line: good reached seconds max [bucket:count]... | error
  static std::string encode(const Clients& c, const LatencyHistogram& h) {
    std::ostringstream os;
    os.precision(17);
    os << c.good << ' ' << c.connections_reached << ' ' << c.seconds << ' ' << h.max();
    for (int i = 0; i < LatencyHistogram::kBuckets; ++i)
      if (std::uint64_t n = h.count(i)) os << ' ' << i << ':' << n;
    std::string err = c.first_error;
    std::replace(err.begin(), err.end(), '\n', ' ');
    os << " |" << err;
    return os.str();
  }
  static void decode(const std::string& line, Clients& c, LatencyHistogram& h) {
    const auto bar = line.find(" |");
    std::istringstream is(line.substr(0, bar));
    std::uint64_t max = 0;
    is >> c.good >> c.connections_reached >> c.seconds >> max;
    h.add_max(max);
    std::string bucket;
    while (is >> bucket) {
      const auto colon = bucket.find(':');
      h.add_bucket(std::stoi(bucket.substr(0, colon)), std::stoull(bucket.substr(colon + 1)));
    }
    if (bar != std::string::npos) c.first_error = line.substr(bar + 2);
  }
};

}  // namespace spindle
