// case_spec.cpp — validation of case descriptions (see case_spec.h).
#include "harness/case_spec.h"

#include <charconv>
#include <set>

#include "harness/usage_error.h"

namespace spindle {
namespace {

bool is_power_of_10(std::int64_t v) {
  while (v >= 10 && v % 10 == 0) v /= 10;
  return v == 1;
}

template <class List>
std::string join_names(const List& list) {
  std::string out;
  for (const auto& e : list) out += (out.empty() ? "" : ", ") + e.name;
  return out;
}

}  // namespace

std::vector<std::string> case_arguments(const CaseSpec& spec) {
  std::vector<std::string> args{"--workload", spec.workload};
  for (const auto& [name, value] : spec.params) args.insert(args.end(), {"--param", name + "=" + std::to_string(value)});
  args.insert(args.end(), {"--workers", std::to_string(spec.options.workers), "--repetitions",
                           std::to_string(spec.repetitions)});
  if (!spec.options.stack_policy.empty()) args.insert(args.end(), {"--stack-policy", spec.options.stack_policy});
  if (spec.options.stack_size != 0) args.insert(args.end(), {"--stack-size", std::to_string(spec.options.stack_size)});
  return args;
}

std::string runtime_names() { return join_names(runtimes()); }
std::string workload_names(bool include_test_only) { return join_names(workloads(include_test_only)); }

std::string describe_range(const ParamSpec& spec) {
  std::string s = "an integer " + std::to_string(spec.min) + ".." + std::to_string(spec.max);
  if (spec.power_of_10) s += ", a power of 10";
  return s + " (default " + std::to_string(spec.default_value) + ")";
}

std::int64_t parse_param_value(const ParamSpec& spec, const std::string& workload, const std::string& text) {
  std::int64_t v = 0;
  std::string digits;
  for (char c : text)
    if (c != '_' && c != ',') digits += c;  // allow 1_000_000 and 1,000,000
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  const std::string where = workload + " param " + spec.name + "=" + text + ": ";
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
    throw UsageError(where + "'" + text + "' is not an integer; expected " + describe_range(spec));
  if (v < spec.min || v > spec.max)
    throw UsageError(where + "out of range; expected " + describe_range(spec));
  if (spec.power_of_10 && !is_power_of_10(v))
    throw UsageError(where + "not a power of 10; expected " + describe_range(spec));
  return v;
}

CaseSpec make_case_spec(const std::string& runtime, const std::string& workload,
                        const std::vector<std::string>& params, int workers, int repetitions,
                        std::size_t stack_size, const std::string& stack_policy) {
  const bool tests = test_workloads_enabled();
  const RuntimeInfo* rt = find_runtime(runtime);
  if (!rt) throw UsageError("unknown runtime '" + runtime + "'; valid: " + runtime_names());
  const WorkloadInfo* wl = find_workload(workload, tests);
  if (!wl) throw UsageError("unknown workload '" + workload + "'; valid: " + workload_names(tests));
  if (workers < 0 || workers > 1024)
    throw UsageError("--workers " + std::to_string(workers) + ": expected an integer 1..1024 (0 = all cores)");
  if (repetitions < 1 || repetitions > 1000)
    throw UsageError("--repetitions " + std::to_string(repetitions) + ": expected an integer 1..1000");
  if (stack_size != 0) {
    if (runtime != "fiber" && runtime != "boost-fiber")
      throw UsageError("--stack-size is for the fiber and boost-fiber runtimes only, not '" + runtime + "'");
    if (stack_size < 16 * 1024 || stack_size > 64 * 1024 * 1024)
      throw UsageError("--stack-size " + std::to_string(stack_size) + ": expected bytes 16384..67108864");
  }
  if (!stack_policy.empty()) {
    if (runtime != "fiber") throw UsageError("--stack-policy is for the fiber runtime only, not '" + runtime + "'");
    if (stack_policy != "pooled" && stack_policy != "copy")
      throw UsageError("--stack-policy '" + stack_policy + "': valid: pooled, copy");
  }

  CaseSpec spec;
  spec.runtime = rt->name;
  spec.workload = wl->name;
  spec.repetitions = repetitions;
  spec.options.workers = workers > 0 ? workers : default_workers();
  spec.options.stack_size = stack_size;
  spec.options.stack_policy = stack_policy.empty() && runtime == "fiber" ? "pooled" : stack_policy;
  for (const auto& p : wl->params) spec.params[p.name] = p.default_value;

  std::set<std::string> seen;
  for (const auto& kv : params) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--param '" + kv + "': expected NAME=VALUE; " + wl->name + " takes: " + join_names(wl->params));
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    const ParamSpec* ps = nullptr;
    for (const auto& p : wl->params)
      if (p.name == key) ps = &p;
    if (!ps) throw UsageError("unknown param '" + key + "' for " + wl->name + "; valid: " + join_names(wl->params));
    if (!seen.insert(key).second) throw UsageError("--param " + key + " given twice");
    spec.params[key] = parse_param_value(*ps, wl->name, value);
  }
  if (wl->check)
    if (std::string why = wl->check(spec.params); !why.empty()) throw UsageError(wl->name + " params: " + why);
  return spec;
}

}  // namespace spindle
