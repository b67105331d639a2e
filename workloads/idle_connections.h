// idle_connections.h — `idle-connections`: the memory claim in its real setting. `connections` loopback
// connections are opened; every server-side task is parked in a read. The figures: the user-space bytes
// per connection (this process's RSS growth between "before the first task" and "all parked", as
// memory-per-task measures it) and the kernel's per connection side by side: its TCP buffer memory
// (/proc/net/sockstat `mem`, zero for idle sockets with empty buffers) and its slab growth (/proc/meminfo
// `Slab:`: sock, tcp_sock, file, epoll items of both ends; machine-wide, so noisy). Then the client side closes everything and every server task must
// see EOF and end. The client side is a second process (a fork holding plain blocking sockets, no tasks),
// so this process holds only the server side and its RSS counts only that. op = one idle connection (the
// time is the set-up: accept, spawn, park).
#pragma once

#include <malloc.h>

#include <atomic>
#include <vector>

#include "workloads/net_common.h"
#include "workloads/process_memory.h"
#include "workloads/workload.h"

namespace spindle {

struct IdleConnections {
  static constexpr std::string_view name = "idle-connections";
  static constexpr std::string_view summary = "open connections, every server task parked in read; bytes per connection";
  static constexpr std::string_view op = "one idle connection (set up, parked)";
  static constexpr MainFigure main_figure{"rss_bytes_per_connection", "bytes/connection"};
  static std::vector<ParamSpec> params() {
    return {{"connections", 1'000, 1, 100'000, "connections open at once, a server task parked in read on each"}};
  }
  static Requirements requirements(const ParamValues& p) {
    const auto c = std::uint64_t(p.at("connections"));
    return {.parking = true, .net = true, .concurrent_tasks = c + 1, .connections = c};
  }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    if constexpr (!NetRuntime<R>) {
      throw std::logic_error("idle-connections needs the net capability");
    } else {
      using Net = typename R::Net;
      const std::int64_t n = p.at("connections");
      const int listen_fd = os::loopback_listen(static_cast<int>(std::min<std::int64_t>(n, 4096)), Net::nonblocking);
      const std::uint16_t port = os::local_port(listen_fd);
      ChildProcess client([&](const ChildProcess::Channel& ch) {
        ::close(listen_fd);
        if (ch.receive() != "connect") return;  // after the parent read its baselines
        std::vector<int> fds;
        fds.reserve(std::size_t(n));
        for (std::int64_t i = 0; i < n; ++i) {
          int fd = os::make_stream_socket(false);
          os::set_io_timeouts(fd, socket_deadline());
          if (!os::connect_loopback_start(fd, port)) throw os::NetError("connect", "did not complete");
          fds.push_back(fd);
        }
        ch.send("connected");
        if (ch.receive() != "close") return;
        for (int fd : fds) ::close(fd);
        ch.send("closed");
      });
      std::atomic<std::int64_t> reached{0}, saw_eof{0};
      typename R::WaitGroup parked, ended;
      ProcessMemory before, after;
      std::uint64_t kernel_before = 0, kernel_after = 0, slab_before = 0, slab_after = 0;
      rt.run([&] {
        malloc_trim(0);
        before = process_memory();
        kernel_before = os::kernel_tcp_memory_bytes();
        slab_before = os::kernel_slab_bytes();
        client.channel().send("connect");
        parked.add(n);
        ended.add(n);
        serve_each_connection(rt, listen_fd, n, [&](typename Net::Socket& conn) {
          char b;
          reached.fetch_add(1, std::memory_order_relaxed);
          parked.done();
          if (Net::read_some(conn, &b, 1, socket_deadline()) == 0) saw_eof.fetch_add(1, std::memory_order_relaxed);
          ended.done();
        });
        parked.wait();
        after = process_memory();
        kernel_after = os::kernel_tcp_memory_bytes();
        slab_after = os::kernel_slab_bytes();
        if (client.expect() != "connected") throw std::runtime_error("client process: unexpected answer");
        client.channel().send("close");
        ended.wait();
      });
      if (client.expect() != "closed") throw std::runtime_error("client process: unexpected answer");
      client.join();
      auto per_conn = [n](std::uint64_t a, std::uint64_t b) { return a > b ? double(a - b) / double(n) : 0.0; };
      WorkloadResult r = passed(std::uint64_t(n), std::uint64_t(n));
      r.counters["rss_bytes_per_connection"] = per_conn(after.rss_bytes, before.rss_bytes);
      r.counters["kernel_bytes_per_connection"] = per_conn(kernel_after, kernel_before);
      r.counters["kernel_slab_bytes_per_connection"] = per_conn(slab_after, slab_before);
      r.counters["vm_bytes_per_connection"] = per_conn(after.vm_bytes, before.vm_bytes);
      r.counters["connections_reached"] = double(reached.load());
      r.counters["client_process"] = 1;
      expect(r, "server tasks parked in read at once", n, reached.load());
      expect(r, "server tasks that saw EOF after the close", n, saw_eof.load());
      return r;
    }
  }
};

}  // namespace spindle
