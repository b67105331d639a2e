// environment.cpp — reads /proc, /sys, uname and git for the environment facts (see environment.h).
#include "harness/environment.h"

#include <benchmark/benchmark.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/version.hpp>
#include <ctime>
#include <fstream>
#include <sstream>

#include "harness/external_runtime.h"
#include "harness/subprocess.h"
#include "runtimes/os/thread_limits.h"

#ifndef SPINDLE_CXX_FLAGS
#define SPINDLE_CXX_FLAGS "unknown"
#endif
#ifndef SPINDLE_BUILD_TYPE
#define SPINDLE_BUILD_TYPE "unknown"
#endif
#ifndef SPINDLE_BENCHMARK_VERSION
#define SPINDLE_BENCHMARK_VERSION "unknown"
#endif
#ifndef SPINDLE_SOURCE_DIR
#define SPINDLE_SOURCE_DIR "."
#endif

namespace spindle {
namespace {

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "";
}

std::string virtualization() {
  SubprocessOptions opts;
  opts.timeout = std::chrono::seconds(5);
  SubprocessResult r = run_subprocess({"/usr/bin/env", "systemd-detect-virt"}, opts);
  std::string v = r.out.substr(0, r.out.find('\n'));
  if (!v.empty() && r.exit_code <= 1) return v;  // "none" exits 1
  return cpuinfo_field("flags").find(" hypervisor") != std::string::npos ? "hypervisor (type unknown)" : "none";
}

std::string git(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/env", "git", "-C", SPINDLE_SOURCE_DIR};
  argv.insert(argv.end(), args.begin(), args.end());
  SubprocessOptions opts;
  opts.timeout = std::chrono::seconds(10);
  SubprocessResult r = run_subprocess(argv, opts);
  return r.exit_code == 0 ? r.out : std::string("\x01");  // \x01: git failed
}

std::uint64_t mem_total() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  std::uint64_t kb = 0;
  while (in >> key >> kb >> unit)
    if (key == "MemTotal:") return kb * 1024;
  return 0;
}

}  // namespace

nlohmann::json load_average() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3) return nlohmann::json::array();
  return {l[0], l[1], l[2]};
}

nlohmann::json environment_facts() {
  static const nlohmann::json fixed = [] {
    nlohmann::json e;
    utsname u{};
    uname(&u);
    std::string governor = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
    std::string rev = git({"rev-parse", "HEAD"});
    std::string status = git({"status", "--porcelain", "--untracked-files=no"});
    auto limits = os::thread_limits();
    e["cpu_model"] = cpuinfo_field("model name");
    e["cores"] = sysconf(_SC_NPROCESSORS_CONF);
    e["online_cpus"] = sysconf(_SC_NPROCESSORS_ONLN);
    e["governor"] = governor.empty() ? "unknown (no cpufreq)" : governor;
    e["virtualization"] = virtualization();
    e["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
    e["memory_bytes"] = mem_total();
    e["compiler"] = std::string(
#if defined(__clang__)
        "Clang "
#elif defined(__GNUC__)
        "GNU "
#endif
        __VERSION__);
    e["cxx_flags"] = SPINDLE_CXX_FLAGS;
    e["build_type"] = SPINDLE_BUILD_TYPE;
    e["boost_version"] = std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) +
                         "." + std::to_string(BOOST_VERSION % 100);
    e["benchmark_version"] = SPINDLE_BENCHMARK_VERSION;
    for (const auto& m : external_manifests()) {
      std::string v = external_version(m);
      e[m.version_field] = v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
    }
    e["git_revision"] = rev == "\x01" ? "unknown" : rev.substr(0, rev.find('\n'));
    e["git_dirty"] = status == "\x01" ? nlohmann::json(nullptr) : nlohmann::json(!status.empty());
    e["max_map_count"] = limits.max_map_count;
    e["threads_max"] = limits.threads_max;
    e["rlimit_nproc"] = limits.rlimit_nproc;
    e["max_threads_estimate"] = limits.max_threads;
    return e;
  }();
  nlohmann::json e = fixed;
  e["load_avg_start"] = load_average();
  return e;
}

nlohmann::json results_context() {
  const auto& cpu = benchmark::CPUInfo::Get();
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  char date[64];
  std::time_t t = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&t));
  nlohmann::json caches = nlohmann::json::array();
  for (const auto& c : cpu.caches)
    caches.push_back({{"type", c.type}, {"level", c.level}, {"size", c.size}, {"num_sharing", c.num_sharing}});
  return {{"date", date},
          {"host_name", host},
          {"executable", self_executable_dir() + "/spindle"},
          {"num_cpus", cpu.num_cpus},
          {"mhz_per_cpu", int(cpu.cycles_per_second / 1e6)},
          {"cpu_scaling_enabled", cpu.scaling == benchmark::CPUInfo::Scaling::ENABLED},
          {"caches", caches},
          {"load_avg", load_average()},
          {"library_build_type", std::string(SPINDLE_BUILD_TYPE) == "Debug" ? "debug" : "release"},
          {"spindle_schema", kSpindleSchema},
          {"env", environment_facts()}};
}

}  // namespace spindle
