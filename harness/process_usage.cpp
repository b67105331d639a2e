// process_usage.cpp — getrusage deltas and VmHWM (see process_usage.h).
#include "harness/process_usage.h"

#include <sys/resource.h>

#include "workloads/process_memory.h"

namespace spindle {
namespace {

UsageSnapshot now() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return {secs(ru.ru_utime), secs(ru.ru_stime), ru.ru_nvcsw, ru.ru_nivcsw};
}

}  // namespace

UsageSnapshot usage_begin() {
  reset_peak_rss();
  return now();
}

std::map<std::string, double> usage_since(const UsageSnapshot& start) {
  UsageSnapshot end = now();
  return {{"peak_rss_bytes", double(peak_rss_bytes())},
          {"voluntary_csw", double(end.voluntary_csw - start.voluntary_csw)},
          {"involuntary_csw", double(end.involuntary_csw - start.involuntary_csw)},
          {"user_cpu_s", end.user_s - start.user_s},
          {"sys_cpu_s", end.sys_s - start.sys_s}};
}

}  // namespace spindle
