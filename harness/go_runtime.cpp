// go_runtime.cpp — runs spindle-go as a subprocess and turns its JSON records into repetition outcomes.
#include "harness/go_runtime.h"

#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <nlohmann/json.hpp>

#include "harness/case_spec.h"
#include "harness/subprocess.h"

namespace spindle {
namespace {

class GoExecutor final : public CaseExecutor {
 public:
  explicit GoExecutor(CaseSpec spec) : spec_(std::move(spec)) {}

  RepetitionOutcome run_repetition() override {
    if (!started_) start();
    if (pending_.empty()) {
      RepetitionOutcome out;
      out.error = failure_.empty() ? "spindle-go returned fewer records than repetitions" : failure_;
      return out;
    }
    RepetitionOutcome out = std::move(pending_.front());
    pending_.pop_front();
    return out;
  }

 private:
  void start() {
    started_ = true;
    std::vector<std::string> argv{go_binary()};
    for (auto& a : case_arguments(spec_)) argv.push_back(std::move(a));
    SubprocessOptions opts;
    opts.echo_stderr = true;
    SubprocessResult res = run_subprocess(argv, opts);
    if (res.start_failed || res.signal != 0 || (res.exit_code != 0 && res.exit_code != 1)) {
      failure_ = "spindle-go " + std::string(res.signal ? "was killed by signal " + std::to_string(res.signal)
                                                         : "exited with code " + std::to_string(res.exit_code)) +
                 ": " + tail_lines(res.err, 3);
      return;
    }
    try {
      take_records(nlohmann::json::parse(res.out));
    } catch (const std::exception& e) {
      pending_.clear();
      failure_ = std::string("spindle-go printed no valid Spindle JSON: ") + e.what();
    }
  }

  // take_records: one outcome per record of spindle-go's output; throws on a malformed document.
  void take_records(const nlohmann::json& doc) {
    const std::string version = doc.at("context").value("go_version", "");
    for (const auto& rec : doc.at("benchmarks")) {
      RepetitionOutcome out;
      if (rec.value("status", "") == "limit") {
        out.limit = rec.value("reason", "spindle-go stopped at a memory limit");
        pending_.push_back(std::move(out));
        continue;
      }
      out.ran = true;
      out.go_version = rec.value("go_version", version);
      out.real_seconds = rec.value("real_time", 0.0) / 1e3;  // records are in ms
      out.cpu_seconds = rec.value("cpu_time", 0.0) / 1e3;
      out.result.ops = rec.value("ops", std::uint64_t{0});
      out.result.tasks_created = rec.value("tasks_created", std::uint64_t{0});
      out.result.checksum_ok = rec.value("checksum_ok", false) && rec.value("status", "") == "ok";
      out.result.checksum_detail = rec.value("reason", "");
      for (const char* k : {"rss_bytes_per_task", "vm_bytes_per_task", "mappings", "tasks_reached"})
        if (rec.contains(k)) out.result.counters[k] = rec[k].get<double>();
      for (const char* k : {"peak_rss_bytes", "voluntary_csw", "involuntary_csw", "user_cpu_s", "sys_cpu_s"})
        out.usage[k] = rec.value(k, 0.0);
      pending_.push_back(std::move(out));
    }
  }

  CaseSpec spec_;
  bool started_ = false;
  std::deque<RepetitionOutcome> pending_;
  std::string failure_;
};

}  // namespace

std::string go_binary() {
  if (const char* env = std::getenv("SPINDLE_GO"); env && *env) return access(env, X_OK) == 0 ? env : "";
  std::string path = self_executable_dir() + "/spindle-go";
  return access(path.c_str(), X_OK) == 0 ? path : "";
}

std::string go_version() {
  static const std::string version = [] {
    std::string bin = go_binary();
    if (bin.empty()) return std::string();
    SubprocessOptions opts;
    opts.timeout = std::chrono::seconds(10);
    SubprocessResult res = run_subprocess({bin, "version"}, opts);
    std::string v = res.exit_code == 0 ? res.out : "";
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    return v;
  }();
  return version;
}

RuntimeInfo go_runtime_info() {
  RuntimeInfo info;
  info.name = kGoRuntimeName;
  info.summary = "real goroutines: runtimes/go (standard library only), GOMAXPROCS = --workers";
  info.caps = {.blocking_channels = true, .fork_join_channels = true, .yield = true, .parking = true,
               .one_thread_per_task = false};
  info.external = true;
  info.unavailable = [] {
    return go_binary().empty()
               ? std::string("spindle-go is not built: no `go` command was on PATH at build time (run ./scripts/setup)")
               : std::string();
  };
  info.limit_reason = [](const RuntimeOptions&, const Requirements&) { return std::string(); };
  return info;
}

std::unique_ptr<CaseExecutor> make_go_executor(const CaseSpec& spec) { return std::make_unique<GoExecutor>(spec); }

}  // namespace spindle
