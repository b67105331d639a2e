// fault_injection.h — test-only workloads that misbehave on purpose, so the harness's isolation can be
// tested end to end: `fault-crash` dies of SIGSEGV, `fault-hang` never returns, `fault-checksum` reports a
// wrong answer. Hidden from `list` and refused by `run` unless SPINDLE_TEST_WORKLOADS=1.
#pragma once

#include <csignal>
#include <thread>

#include "workloads/workload.h"

namespace spindle {

enum class Fault { crash, hang, checksum };

template <Fault F>
struct FaultWorkload {
  static constexpr std::string_view name = F == Fault::crash ? "fault-crash" : F == Fault::hang ? "fault-hang" : "fault-checksum";
  static constexpr std::string_view summary = "test only: misbehaves on purpose";
  static constexpr std::string_view op = "none";
  static constexpr bool test_only = true;
  static std::vector<ParamSpec> params() { return {{"tasks", 1, 1, 1000, "tasks"}}; }
  static Requirements requirements(const ParamValues&) { return {}; }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    WorkloadResult r = passed(std::uint64_t(p.at("tasks")), 0);
    rt.run([] {
      if constexpr (F == Fault::crash) std::raise(SIGSEGV);
      if constexpr (F == Fault::hang)
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    });
    if constexpr (F == Fault::checksum) expect(r, "planted answer", 42, 41);
    return r;
  }
};

}  // namespace spindle
