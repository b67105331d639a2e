// registry.cpp — the lists of runtimes and workloads. To add a runtime: one folder under runtimes/ and
// one entry in `InProcessRuntimes`; to add a workload: one header under workloads/ and one entry in
// `AllWorkloads`. Nothing else in harness/ names them.
#include "harness/registry.h"

#include <malloc.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "harness/calibration.h"
#include "harness/external_runtime.h"
#include "harness/process_usage.h"
#include "runtimes/boost_fiber/boost_fiber_runtime.h"
#include "runtimes/fiber/fiber_runtime.h"
#include "runtimes/pool/pool_runtime.h"
#include "runtimes/thread/thread_runtime.h"
#include "runtimes/os/net.h"
#include "workloads/blocking_syscall.h"
#include "workloads/context_switch_storm.h"
#include "workloads/deep_stack.h"
#include "workloads/echo.h"
#include "workloads/idle_connections.h"
#include "workloads/fault_injection.h"
#include "workloads/hog_latency.h"
#include "workloads/memory_per_task.h"
#include "workloads/ping_pong.h"
#include "workloads/skynet.h"
#include "workloads/spawn_million.h"

namespace spindle {
namespace {

template <class... Ts>
struct TypeList {};

// ---- the registration lists --------------------------------------------------------------------
using InProcessRuntimes = TypeList<ThreadRuntime, PoolRuntime, FiberRuntime, BoostFiberRuntime>;
using AllWorkloads = TypeList<SpawnMillion, PingPong, ContextSwitchStorm, Skynet, MemoryPerTask, DeepStack, Echo, IdleConnections,
                              BlockingSyscall, HogLatency,
                              FaultWorkload<Fault::crash>, FaultWorkload<Fault::hang>, FaultWorkload<Fault::checksum>,
                              FaultWorkload<Fault::deadlock>>;
// --------------------------------------------------------------------------------------------------

template <class W>
constexpr bool is_test_only() {
  if constexpr (requires { W::test_only; }) return W::test_only;
  return false;
}

template <class T>
std::string summary_of() {
  if constexpr (requires { T::summary; }) return std::string(T::summary);
  return std::string(T::name);
}

// connection_limit_reason: a case with `connections` loopback connections needs one end of each in this
// process at least (the other end may go to a second process: workloads/net_common.h) and as many
// ephemeral ports.
std::string connection_limit_reason(const Requirements& r) {
  if (r.connections == 0) return {};
  if (std::string why = os::fd_limit_reason(r.connections + 16); !why.empty()) return why;
  return os::ephemeral_port_limit_reason(r.connections);
}

template <class R>
RuntimeInfo runtime_info() {
  return {std::string(R::name), summary_of<R>(), R::caps, false, [] { return std::string(); },
          [](const RuntimeOptions& o, const Requirements& r) {
            std::string why = R::limit_reason(o, r);
            return why.empty() ? connection_limit_reason(r) : why;
          },
          /*lacks_workload=*/{}};
}

template <class W>
WorkloadInfo workload_info() {
  WorkloadInfo info{std::string(W::name), std::string(W::summary), std::string(W::op), W::params(),
                    [](const ParamValues& p) { return W::requirements(p); }, is_test_only<W>(), main_figure_of<W>(),
                    /*check=*/{}};
  if constexpr (requires(const ParamValues& p) { W::check(p); })
    info.check = [](const ParamValues& p) { return W::check(p); };
  return info;
}

template <class... Rs>
std::vector<RuntimeInfo> runtime_infos(TypeList<Rs...>) {
  std::vector<RuntimeInfo> v{runtime_info<Rs>()...};
  for (auto& info : external_runtime_infos()) v.push_back(std::move(info));
  return v;
}

template <class... Ws>
std::vector<WorkloadInfo> workload_infos(TypeList<Ws...>) {
  return {workload_info<Ws>()...};
}

// InProcessExecutor: a fresh runtime per repetition (so no pooled state leaks between repetitions);
// only W::run is timed, not the runtime's start and stop.
template <class R, class W>
class InProcessExecutor final : public CaseExecutor {
 public:
  explicit InProcessExecutor(CaseSpec spec) : spec_(std::move(spec)) {}
  RepetitionOutcome run_repetition() override {
    RepetitionOutcome out;
    malloc_trim(0);
    try {
      RuntimeOptions options = spec_.options;
      if constexpr (requires { R::fit_options(options, W::requirements(spec_.params)); })
        options = R::fit_options(options, W::requirements(spec_.params));  // fiber: stacks as deep as the case
      R rt(options);
      UsageSnapshot start = usage_begin();
      auto t0 = std::chrono::steady_clock::now();
      out.result = W::run(rt, spec_.params);
      inject_calibration_slowdown(std::chrono::steady_clock::now() - t0);
      auto t1 = std::chrono::steady_clock::now();
      if constexpr (requires { rt.counters(); })  // the runtime's own figures (fiber: the monitor's)
        for (const auto& [k, v] : rt.counters()) out.result.counters.emplace(k, v);
      out.usage = usage_since(start);
      out.real_seconds = std::chrono::duration<double>(t1 - t0).count();
      out.cpu_seconds = out.usage["user_cpu_s"] + out.usage["sys_cpu_s"];
      out.ran = true;
    } catch (const std::exception& e) {
      out.error = std::string("a task threw: ") + e.what();
    } catch (...) {
      out.error = "a task threw an exception that is not a std::exception";
    }
    return out;
  }

 private:
  CaseSpec spec_;
};

template <class R, class... Ws>
std::unique_ptr<CaseExecutor> pick_workload(const CaseSpec& spec, TypeList<Ws...>) {
  std::unique_ptr<CaseExecutor> out;
  ((spec.workload == Ws::name ? (void)(out = std::make_unique<InProcessExecutor<R, Ws>>(spec)) : void()), ...);
  return out;
}

template <class... Rs>
std::unique_ptr<CaseExecutor> pick_runtime(const CaseSpec& spec, TypeList<Rs...>) {
  std::unique_ptr<CaseExecutor> out;
  ((spec.runtime == Rs::name ? (void)(out = pick_workload<Rs>(spec, AllWorkloads{})) : void()), ...);
  return out;
}

struct CapabilityText {
  bool Requirements::*needs;
  bool Capabilities::*has;
  const char* what;
};
constexpr CapabilityText kCapabilityTexts[] = {
    {&Requirements::blocking_channels, &Capabilities::blocking_channels,
     "tasks that block in channel send/recv while their peers run"},
    {&Requirements::fork_join_channels, &Capabilities::fork_join_channels,
     "parents that wait in channel recv for their children"},
    {&Requirements::yield, &Capabilities::yield, "a yield that switches to another ready task"},
    {&Requirements::parking, &Capabilities::parking, "very many tasks parked at once"},
    {&Requirements::net, &Capabilities::net, "loopback TCP sockets (the net capability)"},
};

}  // namespace

bool test_workloads_enabled() {
  const char* v = std::getenv("SPINDLE_TEST_WORKLOADS");
  return v && std::string(v) == "1";
}

const std::vector<RuntimeInfo>& runtimes() {
  static const std::vector<RuntimeInfo> all = runtime_infos(InProcessRuntimes{});
  return all;
}

const std::vector<WorkloadInfo>& workloads(bool include_test_only) {
  static const std::vector<WorkloadInfo> all = workload_infos(AllWorkloads{});
  static const std::vector<WorkloadInfo> visible = [] {
    std::vector<WorkloadInfo> v;
    for (const auto& w : all)
      if (!w.test_only) v.push_back(w);
    return v;
  }();
  return include_test_only ? all : visible;
}

const RuntimeInfo* find_runtime(const std::string& name) {
  for (const auto& r : runtimes())
    if (r.name == name) return &r;
  return nullptr;
}

const WorkloadInfo* find_workload(const std::string& name, bool include_test_only) {
  for (const auto& w : workloads(include_test_only))
    if (w.name == name) return &w;
  return nullptr;
}

std::string unsupported_reason(const RuntimeInfo& runtime, const WorkloadInfo& workload, const ParamValues& params) {
  if (runtime.lacks_workload)
    if (std::string why = runtime.lacks_workload(workload.name); !why.empty()) return why;
  Requirements req = workload.requirements(params);
  std::string missing;
  for (const auto& c : kCapabilityTexts)
    if (req.*(c.needs) && !(runtime.caps.*(c.has))) missing += (missing.empty() ? "" : "; ") + std::string(c.what);
  if (missing.empty()) return {};
  return workload.name + " needs " + missing + ", which " + runtime.name + " does not offer";
}

std::string case_id(const CaseSpec& spec) {
  std::ostringstream os;
  os << spec.workload << '/' << spec.runtime;
  for (const auto& [k, v] : spec.params) os << '/' << k << ':' << v;
  os << "/workers:" << spec.options.workers;
  if (!spec.options.stack_policy.empty()) os << "/stack_policy:" << spec.options.stack_policy;
  if (spec.options.stack_size != 0) os << "/stack_size:" << spec.options.stack_size;
  return os.str();
}

std::unique_ptr<CaseExecutor> make_executor(const CaseSpec& spec) {
  if (auto exec = make_external_executor(spec)) return exec;
  auto exec = pick_runtime(spec, InProcessRuntimes{});
  if (!exec) throw std::logic_error("no executor for " + case_id(spec));
  return exec;
}

}  // namespace spindle
