// workload.h — what every workload provides (the `Workload` concept) and the value types it speaks:
// parameter specs with defaults and ranges, parameter values, and the self-checked result of one run.
// A workload checks its own answer; a wrong checksum is reported as a failure, never as a time.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtimes/runtime.h"

namespace spindle {

// ParamSpec: one integer parameter, its default and inclusive range; `power_of_10` adds that rule.
struct ParamSpec {
  std::string name;
  std::int64_t default_value;
  std::int64_t min;
  std::int64_t max;
  std::string help;
  bool power_of_10 = false;
};

// ParamValues: every parameter of a workload with its effective value (defaults filled in).
using ParamValues = std::map<std::string, std::int64_t>;

// WorkloadResult: what one run did and whether its answer checked out.
struct WorkloadResult {
  std::uint64_t ops = 0;            // operations counted for ns_per_op (see the workload's `op`)
  std::uint64_t tasks_created = 0;  // tasks actually spawned, root excluded
  bool checksum_ok = false;
  std::string checksum_detail;      // expected vs got, when the check failed
  std::map<std::string, double> counters;  // workload-specific figures (memory-per-task)
};

// passed: a result whose checksum holds until an `expect` below says otherwise.
inline WorkloadResult passed(std::uint64_t ops, std::uint64_t tasks_created) {
  WorkloadResult r;
  r.ops = ops;
  r.tasks_created = tasks_created;
  r.checksum_ok = true;
  return r;
}

// MainFigure: the counter a workload is judged by and the unit people read it in (progress lines, the
// sweep's summary; scripts/spindle_report/units.py keeps the report's copy of this table). A workload
// declares `static constexpr MainFigure main_figure{...};`; one without it is read in ns/op. `also` is a
// second counter printed beside it (echo: latency p99), with its own unit.
struct MainFigure {
  std::string_view counter = "ns_per_op";
  std::string_view unit = "ns/op";
  std::string_view also = {};
  std::string_view also_unit = {};
};

template <class W>
constexpr MainFigure main_figure_of() {
  if constexpr (requires { W::main_figure; }) return W::main_figure;
  return MainFigure{};
}

template <class W>
concept Workload = requires(const ParamValues& p) {
  { W::name } -> std::convertible_to<std::string_view>;
  { W::summary } -> std::convertible_to<std::string_view>;
  { W::op } -> std::convertible_to<std::string_view>;
  { W::params() } -> std::convertible_to<std::vector<ParamSpec>>;
  { W::requirements(p) } -> std::same_as<Requirements>;
};

// expect: fills the checksum fields of `r` from a comparison of `got` against `want`.
inline void expect(WorkloadResult& r, std::string_view what, std::int64_t want, std::int64_t got) {
  if (want == got) return;
  r.checksum_ok = false;
  if (!r.checksum_detail.empty()) r.checksum_detail += "; ";
  r.checksum_detail += std::string(what) + ": expected " + std::to_string(want) + ", got " + std::to_string(got);
}

}  // namespace spindle
