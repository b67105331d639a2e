// process_memory.h — this process's memory as the kernel counts it right now: resident set, virtual
// size and number of mappings; and its peak resident set (VmHWM) since the last reset_peak_rss(). Used by
// workloads that measure memory per task and by the harness's per-repetition usage.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace spindle {

struct ProcessMemory {
  std::uint64_t rss_bytes = 0;
  std::uint64_t vm_bytes = 0;
  std::uint64_t mappings = 0;
};

inline ProcessMemory process_memory() {
  ProcessMemory m;
  const std::uint64_t page = std::uint64_t(sysconf(_SC_PAGESIZE));
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (statm >> size >> resident) {
    m.vm_bytes = size * page;
    m.rss_bytes = resident * page;
  }
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) ++m.mappings;
  return m;
}

// reset_peak_rss: sets the peak resident set (VmHWM) to the current one (clear_refs 5, Linux >= 4.0).
inline void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// peak_rss_bytes: VmHWM, the peak resident set since the last reset (ru_maxrss, the process's whole life,
// where /proc/self/status has no VmHWM).
inline std::uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream is(line.substr(6));
      std::uint64_t kib = 0;
      is >> kib;
      return kib * 1024;
    }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return std::uint64_t(ru.ru_maxrss) * 1024;
}

}  // namespace spindle
