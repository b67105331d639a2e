// thread_limits.cpp — reads the kernel's and the process's thread limits (see thread_limits.h).
#include "runtimes/os/thread_limits.h"

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace spindle::os {
namespace {

std::uint64_t read_u64(const char* path, std::uint64_t fallback) {
  std::ifstream in(path);
  std::uint64_t v = 0;
  return (in >> v) ? v : fallback;
}

std::uint64_t mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

std::uint64_t count_lines(const char* path) {
  std::ifstream in(path);
  std::uint64_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// total threads on the system now: the 4th field of /proc/loadavg is "running/total".
std::uint64_t system_threads() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c, rt;
  in >> a >> b >> c >> rt;
  auto slash = rt.find('/');
  return slash == std::string::npos ? 0 : std::stoull(rt.substr(slash + 1));
}

}  // namespace

// Per thread we budget 2 mappings, and 64 KiB of memory (touched stack pages, TLS, kernel stack).
constexpr std::uint64_t kMappingsPerThread = 2;
constexpr std::uint64_t kBytesPerThread = 64 * 1024;
constexpr std::uint64_t kMarginThreads = 1024;

ThreadLimits thread_limits() {
  ThreadLimits l;
  l.max_map_count = read_u64("/proc/sys/vm/max_map_count", 65530);
  l.threads_max = read_u64("/proc/sys/kernel/threads-max", 32768);
  rlimit rl{};
  l.rlimit_nproc = (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) ? rl.rlim_cur : UINT64_MAX;
  l.mem_available_bytes = mem_available();

  const std::uint64_t used_maps = count_lines("/proc/self/maps");
  const std::uint64_t sys_threads = system_threads();
  auto sub = [](std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; };

  struct Candidate { std::uint64_t n; std::string why; };
  Candidate cands[] = {
      {sub(l.max_map_count, used_maps) / kMappingsPerThread,
       "vm.max_map_count=" + std::to_string(l.max_map_count) + " (2 mappings per thread stack)"},
      {sub(l.threads_max, sys_threads), "kernel.threads-max=" + std::to_string(l.threads_max)},
      {l.rlimit_nproc == UINT64_MAX ? UINT64_MAX : sub(l.rlimit_nproc, sys_threads),
       "RLIMIT_NPROC (ulimit -u)=" + std::to_string(l.rlimit_nproc)},
      {l.mem_available_bytes / kBytesPerThread,
       "MemAvailable=" + std::to_string(l.mem_available_bytes >> 20) + " MiB (64 KiB per thread)"},
  };
  auto best = std::min_element(std::begin(cands), std::end(cands),
                               [](const Candidate& a, const Candidate& b) { return a.n < b.n; });
  l.max_threads = sub(best->n, kMarginThreads);
  l.binding = best->why;
  return l;
}

std::uint64_t live_threads() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Threads:", 0) == 0) return std::stoull(line.substr(8));
  return 0;
}

void wait_for_live_threads(std::uint64_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (live_threads() > count && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::size_t default_thread_stack_bytes() {
  pthread_attr_t attr;
  std::size_t bytes = 0;
  if (pthread_getattr_default_np(&attr) == 0) {
    pthread_attr_getstacksize(&attr, &bytes);
    pthread_attr_destroy(&attr);
  }
  return bytes;
}

std::string stack_limit_reason(std::uint64_t tasks, std::size_t need, std::size_t have, const std::string& whose) {
  if (need == 0) return {};
  std::ostringstream os;
  if (need > have) {
    os << "a task needs " << (need >> 10) << " KiB of stack; " << whose << " holds " << (have >> 10) << " KiB";
    return os.str();
  }
  const std::uint64_t available = mem_available();
  if (available > 0 && tasks * need > available / 10 * 8) {
    os << tasks << " stacks touched " << (need >> 10) << " KiB deep need " << ((tasks * need) >> 20)
       << " MiB resident, more than 80% of MemAvailable=" << (available >> 20) << " MiB";
    return os.str();
  }
  return {};
}

std::string thread_limit_reason(std::uint64_t threads) {
  ThreadLimits l = thread_limits();
  if (threads <= l.max_threads) return {};
  std::ostringstream os;
  os << "needs " << threads << " OS threads alive at once; this machine allows about " << l.max_threads
     << " (bound by " << l.binding << ")";
  return os.str();
}

}  // namespace spindle::os
