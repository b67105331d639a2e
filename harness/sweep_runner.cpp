// sweep_runner.cpp — child processes, progress, the atomically rewritten results file, resume and
// interleaving for `spindle sweep` (see sweep_runner.h).
#include "harness/sweep_runner.h"

#include "harness/case_spec.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>

#include "harness/case_runner.h"
#include "harness/case_summary.h"
#include "harness/environment.h"
#include "harness/json_file.h"
#include "harness/machine.h"
#include "harness/noise.h"
#include "harness/subprocess.h"
#include "harness/usage_error.h"

namespace spindle {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kStderrTailLines = 20;

// ---- SIGINT / SIGTERM: kill the running child's group, finish the results file, exit 128+signal ----
volatile sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int sig) {
  g_stop_signal = sig;
  kill_current_subprocess();
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the child's poll() wakes up
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// ---- progress --------------------------------------------------------------------------------------
// SweepProgress: on a terminal one live line, redrawn every second ("[k/n] case | elapsed | ETA"), with a
// permanent line for every case that is not ok; otherwise one plain line per finished case. Stderr only.
class SweepProgress {
 public:
  SweepProgress(std::size_t steps, double estimate_s)
      : live_(isatty(2) == 1), steps_(steps), remaining_estimate_(estimate_s), started_(Clock::now()) {
    if (live_) ticker_ = std::thread([this] { tick(); });
  }
  ~SweepProgress() { stop(); }

  void starting(std::size_t k, const std::string& label, double estimate_s) {
    std::lock_guard lock(mutex_);
    k_ = k;
    label_ = label;
    current_estimate_ = estimate_s;
    current_started_ = Clock::now();
    if (live_) draw_locked();
  }

  // finished: `summary` is the case's one-line outcome; `notable` prints it permanently on a terminal.
  void finished(const std::string& summary, bool notable, double seconds, double estimate_s) {
    std::lock_guard lock(mutex_);
    ++done_;
    done_seconds_ += seconds;
    done_estimate_ += estimate_s;
    remaining_estimate_ = std::max(0.0, remaining_estimate_ - estimate_s);
    label_.clear();
    if (live_) {
      if (notable) std::fprintf(stderr, "\r\x1b[K%s\n", summary.c_str());
      draw_locked();
    } else {
      std::fprintf(stderr, "[%zu/%zu] %s (elapsed %s, ETA %s)\n", k_, steps_, summary.c_str(),
                   clock_text(seconds_since(started_)).c_str(), clock_text(eta_locked()).c_str());
    }
    std::fflush(stderr);
  }

  // skipped: a step that will not run (counts as done, prints nothing).
  void skipped(double estimate_s) {
    std::lock_guard lock(mutex_);
    ++done_;
    remaining_estimate_ = std::max(0.0, remaining_estimate_ - estimate_s);
  }

  // stop: ends the live line (idempotent).
  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
      if (live_) std::fprintf(stderr, "\r\x1b[K");
      std::fflush(stderr);
    }
    wake_.notify_all();
    if (ticker_.joinable()) ticker_.join();
  }

  double elapsed() const { return seconds_since(started_); }

 private:
  // eta_locked: the remaining estimate scaled by how finished cases compared with their estimates; when
  // their estimates say nothing, the mean time per finished step times the steps left.
  double eta_locked() const {
    const double current_left = label_.empty() ? 0.0 : std::max(0.0, current_estimate_ - seconds_since(current_started_));
    const double left = remaining_estimate_ - (label_.empty() ? 0.0 : current_estimate_) + current_left;
    if (done_estimate_ > 0.5) return std::max(0.0, left) * done_seconds_ / done_estimate_;
    if (done_ > 0) return done_seconds_ / double(done_) * double(steps_ - done_);
    return std::max(0.0, left);
  }

  void draw_locked() {
    char buf[96];
    std::snprintf(buf, sizeof buf, " | %s elapsed | ETA %s", clock_text(seconds_since(started_)).c_str(),
                  clock_text(eta_locked()).c_str());
    const std::string tail = buf;
    std::snprintf(buf, sizeof buf, "[%zu/%zu] ", label_.empty() ? done_ : k_, steps_);
    const std::string head = buf;
    std::string label = label_.empty() ? std::string("...") : label_;
    winsize ws{};
    std::size_t width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col - 1 : 119;
    if (head.size() + label.size() + tail.size() > width) {
      std::size_t keep = width > head.size() + tail.size() + 4 ? width - head.size() - tail.size() - 3 : 1;
      if (keep < label.size()) label.replace(0, label.size() - keep, "...");
    }
    std::fprintf(stderr, "\r\x1b[K%s%s%s", head.c_str(), label.c_str(), tail.c_str());
    std::fflush(stderr);
  }

  void tick() {
    std::unique_lock lock(mutex_);
    while (!stopped_) {
      wake_.wait_for(lock, std::chrono::seconds(1));
      if (!stopped_) draw_locked();
    }
  }

  const bool live_;
  const std::size_t steps_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread ticker_;
  bool stopped_ = false;
  std::size_t k_ = 0, done_ = 0;
  std::string label_;
  double remaining_estimate_;
  double current_estimate_ = 0, done_seconds_ = 0, done_estimate_ = 0;
  Clock::time_point started_, current_started_;
};

// ---- one case in a child process -------------------------------------------------------------------

nlohmann::json not_run_record(const SweepCase& c, int repetitions, const std::string& status, const std::string& reason) {
  CaseSpec spec = c.spec;
  spec.repetitions = repetitions;
  return status_record(spec, status, reason);
}

std::string last_line(const std::string& text) {
  std::string t = tail_lines(text, 1);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

std::vector<nlohmann::json> read_child_records(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  try {
    nlohmann::json doc = nlohmann::json::parse(in);
    std::vector<nlohmann::json> out;
    for (const auto& r : doc.at("benchmarks"))
      if (r.is_object() && r.contains("status")) out.push_back(r);
    return out;
  } catch (const std::exception&) {
    return {};
  }
}

std::string temporary_result_path() {
  static std::atomic<int> counter{0};
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  return (dir / ("spindle-sweep-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".json")).string();
}

// ---- records of one case -----------------------------------------------------------------------------

const char* const kNotAggregated[] = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
                                      "threads", "iterations", "workers", "tasks_created"};

bool is_measured_number(const std::string& key, const nlohmann::json& value) {
  if (!value.is_number()) return false;
  return std::none_of(std::begin(kNotAggregated), std::end(kNotAggregated), [&](const char* k) { return key == k; });
}

std::string status_of(const nlohmann::json& r) { return r.value("status", std::string("failed")); }

bool is_bad_status(const std::string& s) { return s == "failed" || s == "crashed" || s == "timeout"; }

// summary_of: one line about a case's (new) records, for progress.
std::string summary_of(const std::string& id, const std::vector<nlohmann::json>& records, double seconds) {
  std::ostringstream os;
  const nlohmann::json* bad = nullptr;
  for (const auto& r : records)
    if (status_of(r) != "ok" && !bad) bad = &r;
  if (bad) {
    os << status_of(*bad) << "  " << id << ": " << bad->value("reason", std::string());
    return os.str();
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f s", seconds);
  os << "ok  " << id << " in " << buf << figure_text(case_figure(records));
  return os.str();
}

}  // namespace

bool case_is_complete(const std::vector<nlohmann::json>& records, int repetitions) {
  int ok_iterations = 0;
  for (const auto& r : records) {
    if (status_of(r) != "ok") return true;
    if (r.value("run_type", "") == "iteration") ++ok_iterations;
  }
  return ok_iterations >= repetitions;
}

std::vector<nlohmann::json> run_case_in_child(const SweepCase& c, int repetitions) {
  CaseSpec spec = c.spec;
  spec.repetitions = repetitions;
  if (CaseReport refused = refusal(spec); !refused.status.empty())
    return {status_record(spec, refused.status, refused.reason)};

  const std::string out = temporary_result_path();
  std::vector<std::string> argv{self_executable_dir() + "/spindle", "run", "--runtime", spec.runtime};
  for (auto& a : case_arguments(spec)) argv.push_back(std::move(a));
  argv.insert(argv.end(), {"--out", out});

  SubprocessOptions opts;
  opts.timeout = std::chrono::milliseconds(std::llround(c.timeout_s * 1000));
  SubprocessResult res = run_subprocess(argv, opts);
  std::vector<nlohmann::json> records = read_child_records(out);
  std::filesystem::remove(out);

  if (res.start_failed) {
    records = {not_run_record(c, repetitions, "failed", "could not start spindle run: " + res.err)};
  } else if (res.timed_out) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", c.timeout_s);
    records = {not_run_record(c, repetitions, "timeout",
                              std::string("no result within the timeout of ") + limit + " s; its process group was killed")};
  } else if (res.signal != 0) {
    // A crash is a crash even after the results were written (say, in the runtime's teardown): the case is
    // not trustworthy, but the reason says how far it got.
    std::size_t ok_iterations = 0;
    for (const auto& r : records) ok_iterations += status_of(r) == "ok" && r.value("run_type", "") == "iteration";
    const std::string name = signal_name(res.signal);
    std::string reason = "killed by signal " + std::to_string(res.signal) + " (" + name + ": " + strsignal(res.signal) + ")";
    if (!records.empty())
      reason += " after writing its results (" + std::to_string(ok_iterations) + " of " + std::to_string(repetitions) +
                " repetitions ok)";
    nlohmann::json r = not_run_record(c, repetitions, "crashed", reason);
    r["signal"] = res.signal;
    r["signal_name"] = name;
    records = {r};
  } else if (records.empty()) {
    records = {not_run_record(c, repetitions, "failed",
                              "spindle run exited " + std::to_string(res.exit_code) + " without results: " + last_line(res.err))};
  } else if (res.exit_code != 0) {
    bool any_bad = false;
    for (const auto& r : records) any_bad = any_bad || status_of(r) != "ok";
    if (!any_bad)  // exited non-zero yet every record says ok: believe the exit code
      records.push_back(not_run_record(c, repetitions, "failed", "spindle run exited " + std::to_string(res.exit_code) +
                                                                     ": " + last_line(res.err)));
  }
  for (auto& r : records) {
    if (status_of(r) != "ok") r["stderr_tail"] = tail_lines(res.err, kStderrTailLines);
    if (r.value("case_id", "") != c.id)
      std::fprintf(stderr, "spindle: warning: the child recorded case %s for %s\n", r.value("case_id", "?").c_str(), c.id.c_str());
  }
  return records;
}

std::vector<nlohmann::json> aggregate_records(const std::vector<nlohmann::json>& iterations) {
  if (iterations.empty()) return {};
  std::map<std::string, std::vector<double>> values;
  for (const auto& r : iterations)
    for (const auto& [key, value] : r.items())
      if (is_measured_number(key, value)) values[key].push_back(value.get<double>());
  struct Statistic {
    const char* name;
    double (*compute)(const std::vector<double>&);
    bool percentage;
  };
  const Statistic statistics[] = {{"mean", mean_of, false},
                                  {"median", [](const std::vector<double>& v) { return median_of(v); }, false},
                                  {"stddev", stddev_of, false},
                                  {"cv", cv_of, true}};
  std::vector<nlohmann::json> out;
  const nlohmann::json& first = iterations.front();
  const std::string run_name = first.value("run_name", first.value("name", first.value("case_id", "")));
  for (const auto& s : statistics) {
    nlohmann::json a = first;
    a.erase("repetition_index");
    a["run_type"] = "aggregate";
    a["aggregate_name"] = s.name;
    a["aggregate_unit"] = s.percentage ? "percentage" : "time";
    a["name"] = run_name + "_" + s.name;
    a["run_name"] = run_name;
    a["iterations"] = iterations.size();
    a["repetitions"] = iterations.size();
    for (const auto& [key, v] : values) {
      const double x = v.size() == iterations.size() ? s.compute(v) : std::nan("");
      a[key] = std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::map<std::string, std::vector<nlohmann::json>> read_previous_results(const std::string& path,
                                                                         const SweepDefinition& def) {
  std::ifstream in(path);
  if (!in) throw UsageError("--resume " + path + ": cannot read it");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw UsageError("--resume " + path + ": not valid JSON: " + e.what());
  }
  const nlohmann::json* sweep = doc.is_object() && doc.contains("context") && doc["context"].is_object() &&
                                        doc["context"].contains("sweep")
                                    ? &doc["context"]["sweep"]
                                    : nullptr;
  if (!sweep || !sweep->is_object() || !sweep->contains("hash") || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
    throw UsageError("--resume " + path + ": not the results of a sweep (no context.sweep.hash)");
  if ((*sweep)["hash"] != def.hash)
    throw UsageError("--resume " + path + ": written by a different sweep definition (" + sweep->value("name", "?") +
                     ", " + (*sweep)["hash"].dump() + "), not by " + def.file + " (\"" + def.hash +
                     "\"); run it without --resume, or with the sweep file that wrote it");
  std::map<std::string, std::vector<nlohmann::json>> by_case;
  for (const auto& r : doc["benchmarks"])
    if (r.is_object() && r.contains("case_id") && r["case_id"].is_string()) by_case[r["case_id"]].push_back(r);
  std::map<std::string, int> repetitions;
  for (const auto& c : def.cases) repetitions[c.id] = c.spec.repetitions;
  for (auto it = by_case.begin(); it != by_case.end();) {
    auto reps = repetitions.find(it->first);
    if (reps != repetitions.end() && !case_is_complete(it->second, reps->second))
      it = by_case.erase(it);  // an interleaved case cut short: it runs again, whole
    else
      ++it;
  }
  return by_case;
}

int run_sweep_cases(const SweepDefinition& def, const SweepRunOptions& options) {
  const std::size_t n = def.cases.size();
  // One step = one child process: a whole case, or with --interleave one repetition of it (round r).
  struct Step {
    std::size_t index;
    int round;
  };
  std::vector<Step> steps;
  std::vector<bool> to_run(n, false);
  for (std::size_t i = 0; i < n; ++i)
    to_run[i] = (options.selected.empty() || options.selected[i]) && !options.previous.count(def.cases[i].id);
  if (options.interleave) {
    int rounds = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (to_run[i]) rounds = std::max(rounds, def.cases[i].spec.repetitions);
    std::vector<bool> refused(n, false);  // refused cases need one step, not one per round
    for (std::size_t i = 0; i < n; ++i)
      refused[i] = to_run[i] && !refusal(def.cases[i].spec).status.empty();
    for (int r = 0; r < rounds; ++r)
      for (std::size_t i = 0; i < n; ++i)
        if (to_run[i] && r < def.cases[i].spec.repetitions && !(refused[i] && r > 0)) steps.push_back({i, r});
  } else {
    for (std::size_t i = 0; i < n; ++i)
      if (to_run[i]) steps.push_back({i, 0});
  }
  auto step_estimate = [&](const Step& s) {
    const SweepCase& c = def.cases[s.index];
    return options.interleave ? c.estimate_s / c.spec.repetitions : c.estimate_s;
  };
  double estimate = 0;
  for (const auto& s : steps) estimate += step_estimate(s);

  nlohmann::json context = results_context();
  context["sweep"] = {{"name", def.name},          {"file", def.file},
                      {"hash", def.hash},          {"cases_total", n},
                      {"interleave", options.interleave}};
  if (!options.resumed_from.empty()) context["sweep"]["resumed_from"] = options.resumed_from;
  if (!options.shard.is_null()) context["sweep"]["shard"] = options.shard;
  context["machine"] = machine_identity(context);

  std::set<std::string> known_ids;
  for (const auto& c : def.cases) known_ids.insert(c.id);
  std::vector<std::vector<nlohmann::json>> fresh(n);  // records of cases run now
  std::vector<bool> stopped(n, false);                 // a repetition was not ok: no more rounds for it

  auto write_results = [&] {
    nlohmann::json doc;
    doc["context"] = context;
    doc["context"]["env"]["load_avg_end"] = load_average();
    nlohmann::json records = nlohmann::json::array();
    std::size_t recorded = 0;
    for (std::size_t i = 0; i < n; ++i) {
      auto prev = options.previous.find(def.cases[i].id);
      const auto& these = prev != options.previous.end() ? prev->second : fresh[i];
      for (const auto& r : these) records.push_back(r);
      if (!these.empty() && case_is_complete(these, def.cases[i].spec.repetitions)) ++recorded;
    }
    for (const auto& [id, rs] : options.previous)  // cases this definition does not expand to (any more)
      if (!known_ids.count(id))
        for (const auto& r : rs) records.push_back(r);
    doc["context"]["sweep"]["cases_recorded"] = recorded;
    doc["benchmarks"] = std::move(records);
    write_json_atomically(options.out, doc);
  };

  install_stop_handlers();
  std::fprintf(stderr, "spindle: sweep %s: %zu of %zu cases to run%s, estimate ~%s -> %s\n", def.name.c_str(),
               std::size_t(std::count(to_run.begin(), to_run.end(), true)), n,
               options.interleave ? " (interleaved, one repetition per process)" : "", clock_text(estimate).c_str(),
               options.out.c_str());
  write_results();
  SweepProgress progress(steps.size(), estimate);

  for (std::size_t k = 0; k < steps.size() && !g_stop_signal; ++k) {
    const Step& step = steps[k];
    const SweepCase& c = def.cases[step.index];
    if (stopped[step.index]) {  // an earlier repetition of this case was not ok: its record says so
      progress.skipped(step_estimate(step));
      continue;
    }
    const std::string label =
        options.interleave ? c.id + " (rep " + std::to_string(step.round + 1) + "/" + std::to_string(c.spec.repetitions) + ")"
                           : c.id;
    progress.starting(k + 1, label, step_estimate(step));
    const auto t0 = Clock::now();
    std::vector<nlohmann::json> records = run_case_in_child(c, options.interleave ? 1 : c.spec.repetitions);
    const double seconds = seconds_since(t0);
    if (g_stop_signal) break;  // killed by us: not this case's fault, not recorded

    bool all_ok = true;
    for (const auto& r : records) all_ok = all_ok && status_of(r) == "ok";
    if (options.interleave) {
      for (auto& r : records) {
        r["repetition_index"] = step.round;
        r["repetitions"] = c.spec.repetitions;
      }
      if (!all_ok) stopped[step.index] = true;
      auto& kept = fresh[step.index];
      kept.insert(kept.end(), records.begin(), records.end());
      const bool last_round = step.round + 1 == c.spec.repetitions;
      if (all_ok && last_round && c.spec.repetitions > 1) {
        for (auto& agg : aggregate_records(kept)) kept.push_back(std::move(agg));
      }
    } else {
      fresh[step.index] = records;
    }
    write_results();
    // Interleaved: the line reads the case's repetitions so far, so its cv grows with the rounds.
    progress.finished(summary_of(label, options.interleave ? fresh[step.index] : records, seconds), !all_ok, seconds,
                      step_estimate(step));
  }
  progress.stop();

  if (g_stop_signal) {
    write_results();
    std::fprintf(stderr, "spindle: sweep %s interrupted by %s; every finished case is in %s (continue with --resume %s)\n",
                 def.name.c_str(), signal_name(g_stop_signal).c_str(), options.out.c_str(), options.out.c_str());
    return 128 + g_stop_signal;
  }

  std::map<std::string, int> counts;
  bool any_bad = false;
  std::vector<std::string> untrusted;  // ok cases whose median is noisy or bimodal (harness/noise.h)
  for (std::size_t i = 0; i < n; ++i) {
    auto prev = options.previous.find(def.cases[i].id);
    const auto& these = prev != options.previous.end() ? prev->second : fresh[i];
    if (these.empty()) continue;
    std::string status = "ok";
    for (const auto& r : these)
      if (status_of(r) != "ok") status = status_of(r);
    ++counts[status];
    any_bad = any_bad || is_bad_status(status);
    const CaseFigure f = case_figure(these);
    if (status == "ok" && (f.noise.noisy || f.noise.bimodal)) untrusted.push_back(def.cases[i].id + figure_text(f));
  }
  if (!untrusted.empty()) {
    std::fprintf(stderr, "spindle: %zu case%s with a median not to trust (cv > %.0f%% or bimodal repetitions):\n",
                 untrusted.size(), untrusted.size() == 1 ? "" : "s", kNoisyCv * 100);
    for (const auto& line : untrusted) std::fprintf(stderr, "  %s\n", line.c_str());
  }
  std::string tally;
  for (const auto& [status, count] : counts) tally += (tally.empty() ? "" : ", ") + std::to_string(count) + " " + status;
  std::fprintf(stderr, "spindle: sweep %s done in %s: %s -> %s\n", def.name.c_str(), clock_text(progress.elapsed()).c_str(),
               tally.empty() ? "no cases" : tally.c_str(), options.out.c_str());
  return any_bad ? 1 : 0;
}

}  // namespace spindle
