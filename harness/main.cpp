// main.cpp — the `spindle` command line: list, run, env, sweep, merge. Bad input exits 2 with one line naming
// the bad value and the valid choices; a failed checksum exits 1.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "harness/case_runner.h"
#include "harness/case_spec.h"
#include "harness/case_summary.h"
#include "harness/environment.h"
#include "harness/json_file.h"
#include "harness/merge.h"
#include "harness/sweep.h"
#include "harness/usage_error.h"

namespace spindle {
namespace {

nlohmann::json list_json() {
  const bool tests = test_workloads_enabled();
  nlohmann::json out;
  for (const auto& r : runtimes()) {
    std::string why = r.unavailable();
    out["runtimes"].push_back({{"name", r.name},
                               {"summary", r.summary},
                               {"available", why.empty()},
                               {"unavailable_reason", why},
                               {"capabilities",
                                {{"blocking_channels", r.caps.blocking_channels},
                                 {"fork_join_channels", r.caps.fork_join_channels},
                                 {"yield", r.caps.yield},
                                 {"parking", r.caps.parking},
                                 {"one_thread_per_task", r.caps.one_thread_per_task}}}});
  }
  for (const auto& w : workloads(tests)) {
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : w.params)
      params.push_back({{"name", p.name}, {"default", p.default_value}, {"min", p.min}, {"max", p.max},
                        {"power_of_10", p.power_of_10}, {"help", p.help}});
    out["workloads"].push_back({{"name", w.name}, {"summary", w.summary}, {"op", w.op}, {"params", params},
                                {"main_figure", {{"counter", w.figure.counter}, {"unit", w.figure.unit}}}});
  }
  // The capability matrix at default parameters.
  for (const auto& w : workloads(tests))
    for (const auto& r : runtimes()) {
      CaseSpec spec = make_case_spec(r.name, w.name, {}, 0, 1, 0, "");
      CaseReport refused = refusal(spec);
      out["matrix"][w.name][r.name] = {{"status", refused.status.empty() ? "ok" : refused.status},
                                       {"reason", refused.reason}};
    }
  return out;
}

void print_list(const nlohmann::json& l) {
  std::cout << "Runtimes:\n";
  for (const auto& r : l["runtimes"]) {
    std::cout << "  " << std::left << std::setw(17) << r["name"].get<std::string>() << r["summary"].get<std::string>();
    if (!r["available"].get<bool>()) std::cout << "  [unavailable: " << r["unavailable_reason"].get<std::string>() << "]";
    std::cout << "\n";
  }
  std::cout << "\nWorkloads:\n";
  for (const auto& w : l["workloads"]) {
    std::cout << "  " << std::left << std::setw(22) << w["name"].get<std::string>() << w["summary"].get<std::string>()
              << "  (op = " << w["op"].get<std::string>() << "; figure in "
              << w["main_figure"]["unit"].get<std::string>() << ")\n";
    for (const auto& p : w["params"]) {
      std::cout << "      --param " << p["name"].get<std::string>() << "=N   default " << p["default"] << ", range "
                << p["min"] << ".." << p["max"] << (p["power_of_10"].get<bool>() ? ", a power of 10" : "") << "  "
                << p["help"].get<std::string>() << "\n";
    }
  }
  std::cout << "\nCapability matrix at default parameters (ok / unsupported / limit):\n  " << std::setw(22) << "";
  for (const auto& r : l["runtimes"]) std::cout << std::setw(17) << r["name"].get<std::string>();
  std::cout << "\n";
  std::vector<std::string> notes;
  for (const auto& w : l["workloads"]) {
    const std::string wn = w["name"];
    std::cout << "  " << std::setw(22) << wn;
    for (const auto& r : l["runtimes"]) {
      const auto& cell = l["matrix"][wn][r["name"].get<std::string>()];
      std::string st = cell["status"];
      if (st != "ok") {
        notes.push_back(st + " " + wn + " on " + r["name"].get<std::string>() + ": " + cell["reason"].get<std::string>());
        st += " [" + std::to_string(notes.size()) + "]";
      }
      std::cout << std::setw(17) << st;
    }
    std::cout << "\n";
  }
  for (std::size_t i = 0; i < notes.size(); ++i) std::cout << "  [" << i + 1 << "] " << notes[i] << "\n";
}

std::string fmt(double v, int prec) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(prec) << v;
  return os.str();
}

// summary_line: one human line per case: the median time and the main figure in its unit, with its cv and
// the noise flags (harness/case_summary.h).
std::string summary_line(const CaseReport& report) {
  const nlohmann::json& any = report.records.front();
  std::string line = any["case_id"].get<std::string>() + ": " + report.status;
  if (report.status != "ok") return line + " (" + report.reason + ")";
  std::vector<double> times;
  for (const auto& r : report.records)
    if (r.value("run_type", "") == "iteration" && r["real_time"].is_number()) times.push_back(r["real_time"].get<double>());
  if (!times.empty()) line += ", median " + fmt(median_of(times), 2) + " ms";
  std::string figure = figure_text(case_figure(report.records));
  if (figure.rfind(", median ", 0) == 0) figure.replace(0, 9, ", ");  // "median" said once
  return line + figure;
}

// finish_run: writes the case's results document (to `out`, else stdout) and its summary; the exit code.
int finish_run(const CaseReport& report, const std::string& out, const nlohmann::json& env_start) {
  nlohmann::json doc = results_document(report.records);
  doc["context"]["env"]["load_avg_start"] = env_start;
  doc["context"]["env"]["load_avg_end"] = load_average();
  if (out.empty()) {
    std::cout << doc.dump(2) << std::endl;
  } else {
    write_json_atomically(out, doc);
  }
  std::cerr << "spindle: " << summary_line(report) << (out.empty() ? "" : " -> " + out) << std::endl;
  if (report.status == "ok") return 0;
  if (report.status == "failed") return 1;
  std::cerr << "spindle: " << report.status << ": " << report.reason << std::endl;
  return 2;
}

// An abandoned run (runtime.h, abandon_run): a task threw while others still wait, so neither the
// workload's frames nor the runtime can be torn down. The case's one record says `failed` and why; the
// process then exits at once (std::_Exit), skipping every destructor.
struct RunInProgress {
  CaseSpec spec;
  std::string out;
  nlohmann::json env_start;
};
const RunInProgress* g_run = nullptr;

void write_abandoned_run(std::exception_ptr error) {
  const std::string reason = "a task threw: " + exception_text(error) + " (the run was abandoned, tasks still waiting)";
  std::cerr << "  FAILED: " << reason << std::endl;
  int code = 1;
  try {
    code = finish_run({"failed", reason, {status_record(g_run->spec, "failed", reason)}}, g_run->out, g_run->env_start);
  } catch (const std::exception& e) {  // unwinding would reach the abandoned frames: report and exit here
    std::cerr << "spindle: error: " << e.what() << std::endl;
  }
  std::cout.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}

int run_command(const std::string& runtime, const std::string& workload, const std::vector<std::string>& params,
                int workers, int repetitions, std::size_t stack_size, const std::string& stack_policy,
                const std::string& out) {
  CaseSpec spec = make_case_spec(runtime, workload, params, workers, repetitions, stack_size, stack_policy);
  std::cerr << "spindle: " << case_id(spec) << " (" << repetitions << " repetitions)" << std::endl;
  const RunInProgress run{spec, out, load_average()};
  g_run = &run;
  set_abandon_handler(write_abandoned_run);
  struct Uninstall {
    ~Uninstall() { set_abandon_handler(nullptr), g_run = nullptr; }
  } uninstall;
  CaseReport report = run_case(spec, std::cerr);
  return finish_run(report, out, run.env_start);
}

}  // namespace
}  // namespace spindle

int main(int argc, char** argv) {
  using namespace spindle;
  CLI::App app{"spindle — OS threads or goroutines? The same workloads on every runtime, measured."};
  app.require_subcommand(1);

  auto* list = app.add_subcommand("list", "runtimes, workloads with their params, the capability matrix");
  bool list_as_json = false;
  list->add_flag("--json", list_as_json, "print as JSON");

  auto* run = app.add_subcommand("run", "run one runtime x workload case, print Google-Benchmark-format JSON");
  std::string runtime, workload, out;
  std::vector<std::string> params;
  int workers = 0, repetitions = 5;
  std::size_t stack_size = 0;
  std::string stack_policy;
  run->add_option("--runtime", runtime, "runtime: " + runtime_names())->required();
  run->add_option("--workload", workload, "workload: " + workload_names(false))->required();
  run->add_option("--param", params, "workload parameter NAME=VALUE (repeatable)");
  run->add_option("--workers", workers, "worker threads for M:N runtimes and pools (default: all cores)");
  run->add_option("--repetitions", repetitions, "repetitions (default 5)");
  run->add_option("--stack-size", stack_size, "fiber stack size in bytes (fiber, boost-fiber)");
  run->add_option("--stack-policy", stack_policy, "fiber stack policy: pooled (default) or copy");
  run->add_option("--out", out, "write the JSON here (default: stdout)");

  auto* env = app.add_subcommand("env", "machine, kernel, compiler and flags, library versions, git revision");

  SweepArgs sweep_args;
  auto* sweep = add_sweep_subcommand(app, sweep_args);
  MergeArgs merge_args;
  auto* merge = add_merge_subcommand(app, merge_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "spindle: " << e.what() << " (see spindle --help)" << std::endl;
    return 2;
  }

  try {
    if (list->parsed()) {
      nlohmann::json l = list_json();
      if (list_as_json)
        std::cout << l.dump(2) << std::endl;
      else
        print_list(l);
      return 0;
    }
    if (run->parsed())
      return run_command(runtime, workload, params, workers, repetitions, stack_size, stack_policy, out);
    if (env->parsed()) {
      std::cout << results_context().dump(2) << std::endl;
      return 0;
    }
    if (sweep->parsed()) return run_sweep(sweep_args);
    if (merge->parsed()) return run_merge(merge_args);
  } catch (const UsageError& e) {
    std::cerr << "spindle: " << e.what() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "spindle: error: " << e.what() << std::endl;
    return 1;
  }
  return 2;
}
