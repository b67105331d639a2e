// case_runner.cpp — Google Benchmark drives the repetitions; a collecting reporter turns its runs into
// Spindle records (see case_runner.h).
#include "harness/case_runner.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <iomanip>
#include <ostream>

#include "harness/case_summary.h"
#include "harness/environment.h"

namespace spindle {
namespace {

// CollectingReporter: keeps Google Benchmark's run records; prints nothing.
class CollectingReporter final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override { runs_.insert(runs_.end(), runs.begin(), runs.end()); }
  std::vector<Run> runs_;
};

void init_benchmark_once() {
  static bool done = [] {
    static char arg0[] = "spindle";
    static char* argv[] = {arg0, nullptr};
    int argc = 1;
    benchmark::Initialize(&argc, argv);
    return true;
  }();
  (void)done;
}

nlohmann::json base_record(const CaseSpec& spec) {
  nlohmann::json r;
  r["case_id"] = case_id(spec);
  r["runtime"] = spec.runtime;
  r["workload"] = spec.workload;
  r["params"] = spec.params;
  r["workers"] = spec.options.workers;
  if (!spec.options.stack_policy.empty()) r["stack_policy"] = spec.options.stack_policy;
  if (spec.options.stack_size != 0) r["stack_size"] = spec.options.stack_size;
  if (const WorkloadInfo* w = find_workload(spec.workload, true)) {  // what reports read the case by
    r["main_figure"] = std::string(w->figure.counter);
    r["main_figure_unit"] = std::string(w->figure.unit);
  }
  return r;
}

// Per repetition, what Google Benchmark's run record cannot carry.
struct RepetitionExtra {
  bool ran = false;
  bool limit = false;
  bool checksum_ok = false;
  std::uint64_t tasks_created = 0;
  std::string reason;
  std::map<std::string, std::string> labels;
};

}  // namespace

nlohmann::json status_record(const CaseSpec& spec, const std::string& status, const std::string& reason) {
  nlohmann::json r = base_record(spec);
  r["name"] = case_id(spec);
  r["run_name"] = case_id(spec);
  r["run_type"] = "iteration";
  r["repetitions"] = spec.repetitions;
  r["repetition_index"] = 0;
  r["threads"] = 1;
  r["iterations"] = 0;
  r["real_time"] = 0;
  r["cpu_time"] = 0;
  r["time_unit"] = "ms";
  r["status"] = status;
  r["reason"] = reason;
  r["checksum_ok"] = false;
  r["tasks_created"] = 0;
  r["error_occurred"] = true;
  r["error_message"] = status + ": " + reason;
  return r;
}

CaseReport refusal(const CaseSpec& spec) {
  const RuntimeInfo* rt = find_runtime(spec.runtime);
  const WorkloadInfo* wl = find_workload(spec.workload, true);
  if (std::string why = rt->unavailable(); !why.empty()) return {"unsupported", spec.runtime + " is unavailable: " + why, {}};
  if (std::string why = unsupported_reason(*rt, *wl, spec.params); !why.empty()) return {"unsupported", why, {}};
  if (std::string why = rt->limit_reason(spec.options, wl->requirements(spec.params)); !why.empty())
    return {"limit", why, {}};
  return {};
}

CaseReport run_case(const CaseSpec& spec, std::ostream& progress) {
  CaseReport report = refusal(spec);
  if (!report.status.empty()) {
    report.records.push_back(status_record(spec, report.status, report.reason));
    return report;
  }
  init_benchmark_once();
  auto executor = make_executor(spec);
  std::vector<RepetitionExtra> extras;
  const std::string id = case_id(spec);
  const MainFigure figure = find_workload(spec.workload, true)->figure;

  auto rep_line = [&](std::size_t rep) -> std::ostream& {
    return progress << "  rep " << rep << "/" << spec.repetitions << ": ";
  };
  auto* bench = benchmark::RegisterBenchmark(id.c_str(), [&](benchmark::State& state) {
    for (auto _ : state) {
      if (!extras.empty() && !(extras.back().ran && extras.back().checksum_ok)) {
        // An earlier repetition failed or hit a limit: the case's verdict is in, do not run it again.
        RepetitionExtra skipped = extras.back();
        skipped.reason = "skipped: repetition " + std::to_string(extras.size()) + " did not pass";
        extras.push_back(skipped);
        state.SkipWithError(skipped.reason.c_str());
        break;
      }
      RepetitionOutcome out = executor->run_repetition();
      RepetitionExtra extra{out.ran, !out.limit.empty(), out.ran && out.result.checksum_ok, out.result.tasks_created,
                            out.ran ? out.result.checksum_detail : out.limit.empty() ? out.error : out.limit,
                            out.labels};
      extras.push_back(extra);
      const std::size_t rep = extras.size();
      if (!out.limit.empty()) {
        rep_line(rep) << "LIMIT: " << out.limit << std::endl;
        state.SkipWithError(("limit: " + out.limit).c_str());
        break;
      }
      if (!out.ran) {
        rep_line(rep) << "FAILED: " << out.error << std::endl;
        state.SkipWithError(out.error.c_str());
        break;
      }
      if (!out.result.checksum_ok) {
        std::string msg = "checksum mismatch: " + out.result.checksum_detail;
        rep_line(rep) << "FAILED: " << msg << std::endl;
        state.SkipWithError(msg.c_str());
        break;
      }
      state.SetIterationTime(out.real_seconds);
      const double ops = double(out.result.ops);
      state.counters["ops"] = ops;
      state.counters["ns_per_op"] = ops > 0 ? out.real_seconds * 1e9 / ops : 0;
      state.counters["ops_per_second"] = out.real_seconds > 0 ? ops / out.real_seconds : 0;
      state.counters["cpu_time_ms"] = out.cpu_seconds * 1e3;
      for (const auto& [k, v] : out.usage) state.counters[k] = v;
      for (const auto& [k, v] : out.result.counters) state.counters[k] = v;
      rep_line(rep) << std::fixed << std::setprecision(2) << out.real_seconds * 1e3 << " ms";
      for (auto [counter, unit] : {std::pair{figure.counter, figure.unit}, std::pair{figure.also, figure.also_unit}})
        if (auto c = state.counters.find(std::string(counter)); !counter.empty() && c != state.counters.end())
          progress << ", " << figure_value(c->second.value) << " " << unit;
      progress << std::endl;
    }
  });
  bench->Iterations(1)->Repetitions(spec.repetitions)->UseManualTime()->Unit(benchmark::kMillisecond);
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::ClearRegisteredBenchmarks();

  bool all_ok = !extras.empty(), any_limit = false, any_failed = false;
  for (const auto& e : extras) {
    all_ok = all_ok && e.ran && e.checksum_ok;
    any_limit = any_limit || e.limit;
    any_failed = any_failed || (!e.limit && !(e.ran && e.checksum_ok));
  }
  report.status = all_ok ? "ok" : (any_limit && !any_failed) ? "limit" : "failed";

  std::size_t rep = 0;
  for (const auto& run : reporter.runs_) {
    nlohmann::json r = base_record(spec);
    const bool aggregate = run.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate;
    const bool percentage = aggregate && run.aggregate_unit == benchmark::kPercentage;
    r["name"] = run.benchmark_name();
    r["family_index"] = run.family_index;
    r["per_family_instance_index"] = run.per_family_instance_index;
    r["run_name"] = run.run_name.str();
    r["run_type"] = aggregate ? "aggregate" : "iteration";
    r["repetitions"] = run.repetitions;
    if (aggregate) {
      r["aggregate_name"] = run.aggregate_name;
      r["aggregate_unit"] = percentage ? "percentage" : "time";
    } else {
      r["repetition_index"] = run.repetition_index;
    }
    r["threads"] = run.threads;
    r["iterations"] = run.iterations;
    r["real_time"] = percentage ? run.real_accumulated_time : run.GetAdjustedRealTime();
    r["time_unit"] = "ms";
    r["cpu_time"] = 0.0;
    for (const auto& [k, c] : run.counters) {
      if (k == "cpu_time_ms")
        r["cpu_time"] = c.value;
      else
        r[k] = c.value;
    }
    const RepetitionExtra* extra = nullptr;
    if (!aggregate && rep < extras.size()) extra = &extras[rep++];
    if (run.error_occurred) {
      r["error_occurred"] = true;
      r["error_message"] = run.error_message;
      const bool limit = extra && extra->limit;
      r["status"] = limit ? "limit" : "failed";
      r["reason"] = limit ? extra->reason : run.error_message;
      r["checksum_ok"] = false;
      if (report.reason.empty()) report.reason = run.error_message;  // the first failure, not a skip
    } else {
      // An aggregate of the repetitions that passed still belongs to a case that did not.
      r["status"] = extra || all_ok ? "ok" : report.status;
      r["checksum_ok"] = extra ? extra->checksum_ok : all_ok;
    }
    static const RepetitionExtra kNone;
    const RepetitionExtra& info = extra ? *extra : extras.empty() ? kNone : extras.back();
    r["tasks_created"] = info.tasks_created;
    for (const auto& [k, v] : info.labels) r[k] = v;
    report.records.push_back(std::move(r));
  }
  return report;
}

nlohmann::json results_document(const std::vector<nlohmann::json>& records) {
  nlohmann::json doc;
  doc["context"] = results_context();
  doc["benchmarks"] = records;
  return doc;
}

}  // namespace spindle
