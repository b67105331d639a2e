// registry.h — the one place the harness learns which runtimes and workloads exist. Everything else in
// harness/ speaks of them only through these entries, by name. A case executor runs one repetition of
// one (runtime, workload, params) case; in-process adapters are instantiated from type lists, external
// runtimes (go, java-vthreads, tokio) run as subprocesses through harness/external_runtime.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtimes/runtime.h"
#include "workloads/workload.h"

namespace spindle {

struct RuntimeInfo {
  std::string name;
  std::string summary;
  Capabilities caps;
  bool external = false;                 // runs as a subprocess (harness/external_runtime.h)
  std::function<std::string()> unavailable;  // non-empty reason when it cannot run on this machine
  std::function<std::string(const RuntimeOptions&, const Requirements&)> limit_reason;
  // lacks_workload: non-empty reason when the runtime does not implement the workload (external programs
  // implement their own list); unset for in-process runtimes, which run every workload.
  std::function<std::string(const std::string& workload)> lacks_workload;
};

struct WorkloadInfo {
  std::string name;
  std::string summary;
  std::string op;
  std::vector<ParamSpec> params;
  std::function<Requirements(const ParamValues&)> requirements;
  bool test_only = false;  // fault-injection workloads for the harness's own tests
  MainFigure figure;       // the counter progress lines and summaries show, in its unit (workload.h)
  // check: empty when the params fit together, else why not (a rule across params, e.g. blocking < tasks);
  // unset for workloads whose ranges say it all. make_case_spec turns a reason into a usage error.
  std::function<std::string(const ParamValues&)> check;
};

// CaseSpec: one fully validated case.
struct CaseSpec {
  std::string runtime;
  std::string workload;
  ParamValues params;
  RuntimeOptions options;  // options.workers is always the effective value (never 0)
  int repetitions = 5;
};

// case_id: the stable key `workload/runtime/k:v/.../workers:N[/stack_policy:P]`.
std::string case_id(const CaseSpec& spec);

// RepetitionOutcome: one whole run of a workload, as measured.
struct RepetitionOutcome {
  bool ran = false;            // false: an error (exception, subprocess failure) — see `error`
  std::string error;
  std::string limit;           // non-empty: the run stopped at a machine limit (`limit` status), why
  double real_seconds = 0;
  double cpu_seconds = 0;      // user + sys of the process, during the run
  WorkloadResult result;
  std::map<std::string, double> usage;  // peak_rss_bytes, voluntary_csw, involuntary_csw, user_cpu_s, sys_cpu_s
  std::map<std::string, std::string> labels;  // external runtimes: string fields for the record (go_version, ...)
};

class CaseExecutor {
 public:
  virtual ~CaseExecutor() = default;
  // run_repetition: runs the case once more; called `repetitions` times in a row.
  virtual RepetitionOutcome run_repetition() = 0;
};

const std::vector<RuntimeInfo>& runtimes();
const std::vector<WorkloadInfo>& workloads(bool include_test_only = false);
const RuntimeInfo* find_runtime(const std::string& name);
const WorkloadInfo* find_workload(const std::string& name, bool include_test_only = false);

// unsupported_reason: empty when `runtime` has every capability the case needs, else one line saying
// which it lacks.
std::string unsupported_reason(const RuntimeInfo& runtime, const WorkloadInfo& workload, const ParamValues& params);

std::unique_ptr<CaseExecutor> make_executor(const CaseSpec& spec);

// test_workloads_enabled: fault workloads are visible when SPINDLE_TEST_WORKLOADS=1.
bool test_workloads_enabled();

}  // namespace spindle
