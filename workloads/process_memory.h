// process_memory.h — this process's memory as the kernel counts it right now: resident set, virtual
// size and number of mappings. Used by workloads that measure memory per task.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <fstream>
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

}  // namespace spindle
