// net_common.h — what the network workloads (echo, idle-connections) share: the per-wait socket timeout,
// the decision to run the client side in a second process when one process cannot hold both ends of every
// connection (RLIMIT_NOFILE), and that second process: a fork of this one running a fresh runtime of the
// same kind, talking to the parent over two pipes (lines of text).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "runtimes/os/net.h"
#include "runtimes/runtime.h"

namespace spindle {

// socket_timeout: every socket wait's deadline is now + this. SPINDLE_SOCKET_TIMEOUT_S (the sweep runner
// can derive it from the case timeout); default 60 s. A fault (a peer gone, a lost byte) then fails the
// run with the reason instead of hanging it.
inline std::chrono::nanoseconds socket_timeout() {
  static const std::chrono::nanoseconds t = [] {
    const char* v = std::getenv("SPINDLE_SOCKET_TIMEOUT_S");
    long s = v ? std::strtol(v, nullptr, 10) : 0;
    return std::chrono::nanoseconds(std::chrono::seconds(s > 0 ? s : 60));
  }();
  return t;
}
inline os::Deadline socket_deadline() { return std::chrono::steady_clock::now() + socket_timeout(); }

// client_in_second_process: true when both ends of `connections` do not fit in this process's
// RLIMIT_NOFILE but one end does (the harness refused the case as `limit` if not even that fits).
inline bool client_in_second_process(std::uint64_t connections) {
  return !os::fd_limit_reason(2 * connections).empty();  // fd_limit_reason keeps a margin of 64
}

// options_of: the options a runtime was made with, so the second process runs the same kind.
template <class R>
RuntimeOptions options_of(const R& rt) {
  if constexpr (requires { rt.options(); }) return rt.options();
  else return RuntimeOptions{.workers = rt.workers()};
}

// serve_each_connection: called inside a task of `rt`: spawns an accept task that takes `connections`
// connections on the listening fd (adopted here, so a fiber runtime registers it with its netpoller) and
// spawns `handler(socket)` as one task per accepted connection. Each task owns its socket.
template <class R, class Handler>
void serve_each_connection(R& rt, int listen_fd, std::int64_t connections, Handler handler) {
  using Net = typename R::Net;
  auto listener = std::make_shared<typename Net::Socket>(listen_fd);
  rt.spawn([&rt, listener, connections, handler] {
    for (std::int64_t i = 0; i < connections; ++i) {
      auto conn = std::make_shared<typename Net::Socket>(Net::accept(*listener, socket_deadline()));
      rt.spawn([conn, handler] { handler(*conn); });
    }
  });
}

// ChildProcess: forks; the child runs `body(channel)` and _exits (never returning into the harness); an
// exception escaping `body` is sent as "error <what>". The parent talks to it line by line.
class ChildProcess {
 public:
  class Channel {
   public:
    Channel(int in, int out) : in_(in), out_(out) {}
    void send(const std::string& line) const;  // appends '\n'
    std::string receive() const;                 // one line without '\n'; "" at EOF
   private:
    int in_, out_;
  };

  template <class Body>
  explicit ChildProcess(Body&& body) {
    int down[2], up[2];
    if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0) throw os::NetError("pipe", errno);
    pid_ = fork();
    if (pid_ < 0) throw os::NetError("fork", errno);
    if (pid_ == 0) {
      ::close(down[1]);
      ::close(up[0]);
      Channel ch(down[0], up[1]);
      int status = 0;
      try {
        body(ch);
      } catch (const std::exception& e) {
        ch.send(std::string("error ") + e.what());
        status = 1;
      }
      _exit(status);
    }
    ::close(down[0]);
    ::close(up[1]);
    to_child_ = down[1];
    from_child_ = up[0];
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::close(to_child_);
      ::close(from_child_);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  Channel channel() const { return Channel(from_child_, to_child_); }
  // expect: the child's next line; throws with the child's words if it reported an error or died.
  std::string expect() const {
    std::string line = channel().receive();
    if (line.empty()) throw std::runtime_error("the client process ended without an answer");
    if (line.rfind("error ", 0) == 0) throw std::runtime_error("client process: " + line.substr(6));
    return line;
  }
  // join: waits for the child to exit; throws unless it exited with 0.
  void join() {
    int status = 0;
    ::close(to_child_);
    waitpid(pid_, &status, 0);
    ::close(from_child_);
    pid_ = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("the client process failed (status " + std::to_string(status) + ")");
  }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1, from_child_ = -1;
};

inline void ChildProcess::Channel::send(const std::string& line) const {
  std::string data = line + '\n';
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(out_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw os::NetError("write to the other process", errno);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

inline std::string ChildProcess::Channel::receive() const {
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::read(in_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') return line;
    line += c;
  }
}

}  // namespace spindle
