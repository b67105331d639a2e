// process_usage.h — what the kernel accounts to this process over one repetition: CPU time, context
// switches, and the peak resident set (reset before each repetition through /proc/self/clear_refs).
#pragma once

#include <map>
#include <string>

namespace spindle {

struct UsageSnapshot {
  double user_s = 0, sys_s = 0;
  long voluntary_csw = 0, involuntary_csw = 0;
};

// usage_begin: resets the peak-RSS mark and returns the counters now.
UsageSnapshot usage_begin();
// usage_since: the deltas since `start` plus the peak RSS since the reset, as Spindle's counter names.
std::map<std::string, double> usage_since(const UsageSnapshot& start);

}  // namespace spindle
