// watchdog_main.cpp — the main() of every GoogleTest binary in Spindle (replaces gtest_main): runs the
// tests under a watchdog, so a hung test fails in seconds instead of holding CI until ctest's timeout, the
// way Go's `go test -timeout` does. When one test runs longer than SPINDLE_TEST_TIMEOUT seconds (default
// kDefaultTimeoutS; 0 disables), the watchdog prints
//   spindle-watchdog: HUNG <Suite.Test> after N s
// then every thread's stack (gdb attached to this process when gdb is installed; else each thread's name,
// state and kernel wait channel from /proc), and exits with kHungExit. scripts/test greps for the HUNG line.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

namespace {

constexpr int kDefaultTimeoutS = 120;  // well under ctest's per-test timeouts (240 s, 300 s, 600 s)
constexpr int kHungExit = 124;         // timeout(1)'s exit status for "timed out"

int timeout_from_env() {
  const char* v = std::getenv("SPINDLE_TEST_TIMEOUT");
  if (v == nullptr || *v == '\0') return kDefaultTimeoutS;
  char* end = nullptr;
  long s = std::strtol(v, &end, 10);
  if (*end != '\0' || s < 0 || s > 86400) {
    std::fprintf(stderr, "spindle-watchdog: SPINDLE_TEST_TIMEOUT=%s is not a number of seconds in 0..86400\n", v);
    std::exit(2);
  }
  return static_cast<int>(s);
}

std::string read_first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}

// dump_threads_from_proc: what the kernel knows of each thread, when no debugger is at hand.
void dump_threads_from_proc() {
  std::fputs("spindle-watchdog: gdb not available; threads from /proc/self/task:\n", stderr);
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string stat = read_first_line(task.path() / "stat");
    std::string wchan = read_first_line(task.path() / "wchan");
    std::fprintf(stderr, "  tid %s: %s  wchan=%s\n", task.path().filename().c_str(), stat.c_str(), wchan.c_str());
  }
}

// dump_threads: `gdb -p <us> -batch -ex "thread apply all bt"` on stderr; false when gdb could not run.
bool dump_threads_with_gdb() {
  const std::string pid = std::to_string(getpid());
  pid_t child = fork();
  if (child < 0) return false;
  if (child == 0) {
    dup2(STDERR_FILENO, STDOUT_FILENO);
    execlp("gdb", "gdb", "-nx", "-batch", "-p", pid.c_str(), "-ex", "set pagination off", "-ex",
           "thread apply all bt", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Watch: the watchdog's state and thread. Leaked on purpose: it must outlive gtest's listener list, which
// is destroyed at exit while the watch thread still waits on `cv_` (destroying a waited-on condvar blocks).
class Watch {
 public:
  explicit Watch(int timeout_s) : timeout_(timeout_s) { std::thread([this] { watch(); }).detach(); }
  void start(std::string name) {
    std::lock_guard lock(mutex_);
    name_ = std::move(name);
    deadline_ = std::chrono::steady_clock::now() + timeout_;
    running_ = true;
    cv_.notify_all();
  }
  void stop() {
    std::lock_guard lock(mutex_);
    running_ = false;
    cv_.notify_all();
  }

 private:
  void watch() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (!running_) {
        cv_.wait(lock);
        continue;
      }
      auto deadline = deadline_;
      if (cv_.wait_until(lock, deadline) == std::cv_status::no_timeout || !running_ || deadline != deadline_) continue;
      std::fprintf(stderr, "\nspindle-watchdog: HUNG %s after %lld s (SPINDLE_TEST_TIMEOUT); thread stacks follow\n",
                   name_.c_str(), static_cast<long long>(timeout_.count()));
      std::fflush(stderr);
      if (!dump_threads_with_gdb()) dump_threads_from_proc();
      std::fprintf(stderr, "spindle-watchdog: HUNG %s\n", name_.c_str());
      std::fflush(stderr);
      _exit(kHungExit);
    }
  }

  const std::chrono::seconds timeout_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string name_;
  std::chrono::steady_clock::time_point deadline_;
  bool running_ = false;
};

class Watchdog : public ::testing::EmptyTestEventListener {
 public:
  explicit Watchdog(Watch& watch) : watch_(watch) {}
  void OnTestStart(const ::testing::TestInfo& info) override {
    watch_.start(std::string(info.test_suite_name()) + "." + info.name());
  }
  void OnTestEnd(const ::testing::TestInfo&) override { watch_.stop(); }

 private:
  Watch& watch_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int timeout_s = timeout_from_env();
  if (timeout_s > 0) {
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);  // let the watchdog's gdb attach under Yama
    ::testing::UnitTest::GetInstance()->listeners().Append(new Watchdog(*new Watch(timeout_s)));
  }
  return RUN_ALL_TESTS();
}
