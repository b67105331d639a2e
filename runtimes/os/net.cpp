// net.cpp — the non-template half of net.h: socket creation on loopback, connect, timeouts, poll, and the
// machine limits a many-connection case is checked against (RLIMIT_NOFILE, the ephemeral port range).
#include "runtimes/os/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace spindle::os {

NetError::NetError(const std::string& op, int err) : std::runtime_error(op + ": " + std::strerror(err)) {}

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

int remaining_ms(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
}

}  // namespace

int make_stream_socket(bool nonblocking) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) throw NetError("socket", errno);
  return fd;
}

int loopback_listen(int backlog, bool nonblocking) {
  int fd = make_stream_socket(nonblocking);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0) {
    int err = errno;
    ::close(fd);
    throw NetError("listen on 127.0.0.1", err);
  }
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) throw NetError("getsockname", errno);
  return ntohs(addr.sin_port);
}

bool connect_loopback_start(int fd, std::uint16_t port) {
  sockaddr_in addr = loopback(port);
  for (;;) {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return true;
    if (errno == EINTR) continue;
    if (errno == EINPROGRESS) return false;
    throw NetError("connect to 127.0.0.1:" + std::to_string(port), errno);
  }
}

void check_connect_result(int fd, std::uint16_t port) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) throw NetError("connect to 127.0.0.1:" + std::to_string(port), err);
}

void set_io_timeouts(int fd, Deadline deadline) {
  int ms = std::max(1, remaining_ms(deadline));
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool poll_fd(int fd, bool write, Deadline deadline) {
  pollfd p{fd, static_cast<short>(write ? POLLOUT : POLLIN), 0};
  for (;;) {
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) throw NetError("poll", errno);
  }
}

FdBudget fd_budget() {
  static std::once_flag once;
  std::call_once(once, [] {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
  });
  FdBudget b;
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  b.soft = rl.rlim_cur;
  b.hard = rl.rlim_max;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::end(it);
       it.increment(ec))
    ++b.open_now;
  return b;
}

std::string fd_limit_reason(std::uint64_t needed) {
  FdBudget b = fd_budget();
  constexpr std::uint64_t kMargin = 64;  // the harness's own files, pipes, epoll and event fds
  if (b.open_now + needed + kMargin <= b.soft) return {};
  std::ostringstream os;
  os << "needs " << needed << " more file descriptors in one process; RLIMIT_NOFILE allows " << b.soft
     << " (hard limit " << b.hard << ", " << b.open_now << " open now)";
  return os.str();
}

std::string ephemeral_port_limit_reason(std::uint64_t needed) {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  std::uint64_t lo = 0, hi = 0;
  if (!(in >> lo >> hi) || hi < lo) return {};
  const std::uint64_t ports = hi - lo + 1;
  if (needed + 100 <= ports) return {};
  std::ostringstream os;
  os << "needs " << needed << " client ports to one loopback port; net.ipv4.ip_local_port_range = " << lo << "-"
     << hi << " (" << ports << " ports)";
  return os.str();
}

std::uint64_t kernel_tcp_memory_bytes() {
  std::ifstream in("/proc/net/sockstat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    std::string key;
    std::uint64_t value = 0;
    while (fields >> key >> value)
      if (key == "mem") return value * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  }
  return 0;
}

std::uint64_t kernel_slab_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "Slab:") return kb * 1024;
  return 0;
}

}  // namespace spindle::os
