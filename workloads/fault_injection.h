// fault_injection.h — test-only workloads that misbehave on purpose, so the harness's isolation can be
// tested end to end: `fault-crash` dies of SIGSEGV, `fault-hang` never returns, `fault-checksum` reports a
// wrong answer, `fault-deadlock` parks `tasks` tasks and the root in channel receives nobody will ever send
// to (no timer, no socket: a runtime that can see every task asleep can call it a deadlock; Go does, and
// exits "fatal error: all goroutines are asleep - deadlock!"; thread and boost-fiber hang until the sweep's
// timeout). Hidden from `list` and refused by `run` unless SPINDLE_TEST_WORKLOADS=1.
#pragma once

#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "workloads/workload.h"

namespace spindle {

enum class Fault { crash, hang, checksum, deadlock };

template <Fault F>
struct FaultWorkload {
  static constexpr std::string_view name = F == Fault::crash      ? "fault-crash"
                                           : F == Fault::hang     ? "fault-hang"
                                           : F == Fault::checksum ? "fault-checksum"
                                                                  : "fault-deadlock";
  static constexpr std::string_view summary = "test only: misbehaves on purpose";
  static constexpr std::string_view op = "none";
  static constexpr bool test_only = true;
  static std::vector<ParamSpec> params() { return {{"tasks", 1, 1, 1000, "tasks"}}; }
  static Requirements requirements(const ParamValues& p) {
    if constexpr (F == Fault::deadlock)
      return {.blocking_channels = true, .concurrent_tasks = std::uint64_t(p.at("tasks")) + 1};
    return {};
  }

  template <Runtime R>
  static WorkloadResult run(R& rt, const ParamValues& p) {
    WorkloadResult r = passed(std::uint64_t(p.at("tasks")), 0);
    using Chan = typename R::template Channel<std::int64_t>;
    rt.run([&] {
      if constexpr (F == Fault::crash) std::raise(SIGSEGV);
      if constexpr (F == Fault::deadlock) {
        std::vector<std::shared_ptr<Chan>> never;  // nobody sends on these, nobody closes them
        for (std::int64_t i = 0; i <= p.at("tasks"); ++i) never.push_back(std::make_shared<Chan>(0));
        for (std::int64_t i = 0; i < p.at("tasks"); ++i) rt.spawn([ch = never[i]] { ch->recv(); });
        never.back()->recv();  // the root too
      }
      if constexpr (F == Fault::hang)
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    });
    if constexpr (F == Fault::checksum) expect(r, "planted answer", 42, 41);
    return r;
  }
};

}  // namespace spindle
