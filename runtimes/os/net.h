// net.h — loopback TCP sockets for the runtimes' optional `net` capability, written once. `Net<Policy>`
// gives listen/accept/connect/read/write/close with a deadline on every wait; a runtime says only how a
// task waits for a socket (its Policy):
//   Policy::nonblocking  true: sockets are O_NONBLOCK and a would-block op calls Policy::wait (fiber: park
//                        on the netpoller); false: the op blocks its thread in the kernel (thread: one
//                        thread per connection), the deadline set as SO_RCVTIMEO/SO_SNDTIMEO.
//   Policy::attach(fd) -> void*      a per-socket handle (fiber: its netpoller registration), may be null
//   Policy::detach(void*)            before the fd is closed
//   Policy::wait(void*, fd, write, deadline) -> bool   false: the deadline passed
// Promises: an error never loses errno — every failure throws NetError naming the operation, the errno
// text and, for timeouts, that a deadline passed; a peer's reset or close mid-message is an error too.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace spindle::os {

using Deadline = std::chrono::steady_clock::time_point;

// NetError: a socket operation failed; what() names it ("read: Connection reset by peer").
class NetError : public std::runtime_error {
 public:
  NetError(const std::string& op, int err);
  NetError(const std::string& op, const std::string& why) : std::runtime_error(op + ": " + why) {}
};

// Raw helpers (net.cpp): each throws NetError. `nonblocking` sets O_NONBLOCK on the new fd.
int loopback_listen(int backlog, bool nonblocking);
std::uint16_t local_port(int fd);
int make_stream_socket(bool nonblocking);
// connect_loopback_start: starts a connect to 127.0.0.1:port; true when done, false when in progress
// (non-blocking sockets); throws on failure.
bool connect_loopback_start(int fd, std::uint16_t port);
void check_connect_result(int fd, std::uint16_t port);  // after a non-blocking connect became writable
void set_io_timeouts(int fd, Deadline deadline);  // SO_RCVTIMEO/SO_SNDTIMEO = deadline - now (>= 1 ms)
void set_nodelay(int fd);
// poll_fd: a plain poll(2) wait for one fd; false on timeout.
bool poll_fd(int fd, bool write, Deadline deadline);

// FdBudget: RLIMIT_NOFILE after raising the soft limit to the hard one (the first call does it).
struct FdBudget {
  std::uint64_t soft = 0, hard = 0, open_now = 0;
};
FdBudget fd_budget();
// fd_limit_reason: empty when `needed` more descriptors fit in this process, else one line naming
// RLIMIT_NOFILE and its value.
std::string fd_limit_reason(std::uint64_t needed);
// ephemeral_port_limit_reason: empty when `needed` client connections to one loopback port fit in
// /proc/sys/net/ipv4/ip_local_port_range, else one line naming it.
std::string ephemeral_port_limit_reason(std::uint64_t needed);
// kernel_tcp_memory_bytes: /proc/net/sockstat's `TCP: ... mem M` (pages) times the page size: the
// kernel's socket buffer memory for TCP, machine-wide.
std::uint64_t kernel_tcp_memory_bytes();
// kernel_slab_bytes: /proc/meminfo's `Slab:` — the kernel objects a socket costs (sock, tcp_sock, file,
// dentry, epoll item) live there; machine-wide, so read it around a quiet phase.
std::uint64_t kernel_slab_bytes();

template <class Policy>
class Net {
 public:
  static constexpr bool nonblocking = Policy::nonblocking;
  // Socket: owns one fd and the runtime's handle for it; closes both when destroyed.
  class Socket {
   public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd), handle_(fd >= 0 ? Policy::attach(fd) : nullptr) {}
    Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)), handle_(std::exchange(o.handle_, nullptr)) {}
    Socket& operator=(Socket&& o) noexcept {
      if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        handle_ = std::exchange(o.handle_, nullptr);
      }
      return *this;
    }
    ~Socket() { close(); }
    void close() noexcept;
    int fd() const noexcept { return fd_; }
    void* handle() const noexcept { return handle_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

   private:
    int fd_ = -1;
    void* handle_ = nullptr;
  };

  // listen: a TCP listener on 127.0.0.1, port chosen by the kernel (port(listener) tells which).
  static Socket listen(int backlog) { return Socket(loopback_listen(backlog, Policy::nonblocking)); }
  static std::uint16_t port(const Socket& s) { return local_port(s.fd()); }
  static Socket accept(Socket& listener, Deadline deadline);
  static Socket connect(std::uint16_t port, Deadline deadline);
  // read_some: at least one byte, or 0 at the peer's orderly close.
  static std::size_t read_some(Socket& s, void* buf, std::size_t len, Deadline deadline);
  static void read_exact(Socket& s, void* buf, std::size_t len, Deadline deadline);
  static void write_all(Socket& s, const void* buf, std::size_t len, Deadline deadline);

 private:
  // retry: runs the system call `call` until it succeeds, waiting out EAGAIN; errors name `op`.
  template <class Call>
  static auto retry(Socket& s, bool write, Deadline deadline, const char* op, Call&& call);
  // wait: a would-block op waits for readiness; a passed deadline is an error naming `op`.
  static void wait(Socket& s, bool write, Deadline deadline, const char* op) {
    if (!Policy::wait(s.handle(), s.fd(), write, deadline))
      throw NetError(op, "deadline passed (the case's socket timeout)");
  }
};

template <class Policy>
void Net<Policy>::Socket::close() noexcept {
  if (fd_ < 0) return;
  if (handle_ != nullptr) Policy::detach(std::exchange(handle_, nullptr));
  ::close(std::exchange(fd_, -1));
}

template <class Policy>
template <class Call>
auto Net<Policy>::retry(Socket& s, bool write, Deadline deadline, const char* op, Call&& call) {
  for (;;) {
    auto r = call();
    if (r >= 0) return r;
    if (errno == EINTR || (errno == ECONNABORTED && !write)) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) throw NetError(op, errno);
    // A blocking socket's EAGAIN is its SO_RCVTIMEO/SO_SNDTIMEO running out.
    if constexpr (!Policy::nonblocking) throw NetError(op, "deadline passed (the case's socket timeout)");
    wait(s, write, deadline, op);
  }
}

template <class Policy>
typename Net<Policy>::Socket Net<Policy>::accept(Socket& listener, Deadline deadline) {
  if constexpr (!Policy::nonblocking) set_io_timeouts(listener.fd(), deadline);
  int fd = retry(listener, false, deadline, "accept", [&] {
    return ::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC | (Policy::nonblocking ? SOCK_NONBLOCK : 0));
  });
  set_nodelay(fd);
  if constexpr (!Policy::nonblocking) set_io_timeouts(fd, deadline);
  return Socket(fd);
}

template <class Policy>
typename Net<Policy>::Socket Net<Policy>::connect(std::uint16_t port, Deadline deadline) {
  Socket s(make_stream_socket(Policy::nonblocking));
  if constexpr (!Policy::nonblocking) set_io_timeouts(s.fd(), deadline);
  if (!connect_loopback_start(s.fd(), port)) {
    wait(s, true, deadline, "connect");
    check_connect_result(s.fd(), port);
  }
  set_nodelay(s.fd());
  return s;
}

template <class Policy>
std::size_t Net<Policy>::read_some(Socket& s, void* buf, std::size_t len, Deadline deadline) {
  return static_cast<std::size_t>(retry(s, false, deadline, "read", [&] { return ::read(s.fd(), buf, len); }));
}

template <class Policy>
void Net<Policy>::read_exact(Socket& s, void* buf, std::size_t len, Deadline deadline) {
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    std::size_t n = read_some(s, p, len, deadline);
    if (n == 0) throw NetError("read", "the peer closed the connection mid-message");
    p += n;
    len -= n;
  }
}

template <class Policy>
void Net<Policy>::write_all(Socket& s, const void* buf, std::size_t len, Deadline deadline) {
  const auto* p = static_cast<const char*>(buf);
  while (len > 0) {
    auto n = static_cast<std::size_t>(retry(s, true, deadline, "write", [&] { return ::send(s.fd(), p, len, MSG_NOSIGNAL); }));
    p += n;
    len -= n;
  }
}

}  // namespace spindle::os
