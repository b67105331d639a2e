// subprocess.h — runs a child process with its own process group, captures its stdout and the tail of its
// stderr, and kills the whole group on a timeout. Used for the `go` runtime and for sweep isolation.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace spindle {

struct SubprocessResult {
  int exit_code = -1;      // valid when exited normally
  int signal = 0;          // non-zero when killed by a signal
  bool timed_out = false;  // killed by us after the timeout
  bool start_failed = false;
  std::string out;         // all of stdout
  std::string err;         // all of stderr (callers keep the tail)
};

struct SubprocessOptions {
  std::chrono::milliseconds timeout{0};  // 0 = none
  bool echo_stderr = false;               // also copy the child's stderr to ours as it arrives
};

SubprocessResult run_subprocess(const std::vector<std::string>& argv, const SubprocessOptions& opts = {});

// kill_current_subprocess: from a signal handler — kills the running child's process group, if any.
void kill_current_subprocess() noexcept;

// tail_lines: the last `n` lines of `text`.
std::string tail_lines(const std::string& text, int n);

// self_executable_dir: the folder of the running spindle binary.
std::string self_executable_dir();

}  // namespace spindle
