// sweep_file.cpp — schema validation and case expansion of sweep files (see sweep_file.h and
// harness/sweeps/README.md). Every rejection is `<json path>: expected <what>, got <value>`.
#include "harness/sweep_file.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "harness/case_runner.h"
#include "harness/case_spec.h"
#include "harness/usage_error.h"

namespace spindle {
namespace {

using Json = nlohmann::ordered_json;  // keeps the file's order of workloads and keys

constexpr int kMaxValuesPerList = 10'000;
constexpr std::size_t kMaxCases = 100'000;

[[noreturn]] void reject(const std::string& path, const std::string& message) {
  throw UsageError((path.empty() ? std::string("sweep file") : path) + ": " + message);
}

std::string key_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string index_path(const std::string& parent, std::size_t i) { return parent + "[" + std::to_string(i) + "]"; }

// shown: a value as it appears in the file, cut short.
std::string shown(const Json& v) {
  std::string s = v.dump();
  return s.size() > 48 ? s.substr(0, 45) + "..." : s;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void reject_unknown_keys(const Json& object, const std::string& path, const std::vector<std::string>& valid) {
  for (const auto& [key, value] : object.items())
    if (std::find(valid.begin(), valid.end(), key) == valid.end())
      reject(key_path(path, key), "unknown key; valid: " + join(valid));
}

void require_object(const Json& v, const std::string& path) {
  if (!v.is_object()) reject(path, "expected an object, got " + shown(v));
}

// IntegerRule: what one integer of a value list may be.
struct IntegerRule {
  std::int64_t min = 1;
  std::int64_t max = 1;
  bool power_of_10 = false;
  std::optional<std::int64_t> all;  // the value of "all", when "all" is allowed (workers)

  std::string text() const {
    std::string s = power_of_10 ? "a power of 10 in " + std::to_string(min) + ".." + std::to_string(max)
                                : "an integer " + std::to_string(min) + ".." + std::to_string(max);
    return all ? s + " or \"all\"" : s;
  }
};

bool is_power_of_10(std::int64_t v) {
  if (v < 1) return false;
  while (v >= 10 && v % 10 == 0) v /= 10;
  return v == 1;
}

std::int64_t read_integer(const Json& v, const std::string& path, const IntegerRule& rule) {
  if (rule.all && v.is_string() && v.get<std::string>() == "all") return *rule.all;
  if (!v.is_number_integer()) reject(path, "expected " + rule.text() + ", got " + shown(v));
  const std::int64_t x = v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX)
                             ? INT64_MAX
                             : v.get<std::int64_t>();
  if (x < rule.min || x > rule.max || (rule.power_of_10 && !is_power_of_10(x)))
    reject(path, "expected " + rule.text() + ", got " + shown(v));
  return x;
}

// read_range: {"from": a, "to": b, "powers_of": k} -> a, a·k, a·k², ... below b, then b;
//             {"from": a, "to": b, "step": s}     -> a, a+s, a+2s, ... below b, then b.
std::vector<std::int64_t> read_range(const Json& v, const std::string& path, const IntegerRule& rule) {
  reject_unknown_keys(v, path, {"from", "to", "powers_of", "step"});
  for (const char* key : {"from", "to"})
    if (!v.contains(key)) reject(key_path(path, key), "missing; a range needs \"from\" and \"to\"");
  const bool geometric = v.contains("powers_of");
  if (geometric == v.contains("step"))
    reject(path, "expected exactly one of \"powers_of\" and \"step\", got " + shown(v));
  const std::int64_t from = read_integer(v["from"], key_path(path, "from"), rule);
  const std::int64_t to = read_integer(v["to"], key_path(path, "to"), rule);
  if (to < from) reject(key_path(path, "to"), "expected a value ≥ \"from\" (" + std::to_string(from) + "), got " + shown(v["to"]));
  const std::string factor_key = geometric ? "powers_of" : "step";
  const std::int64_t factor = read_integer(v[factor_key], key_path(path, factor_key),
                                           IntegerRule{geometric ? 2 : 1, 1'000'000'000, false, {}});
  std::vector<std::int64_t> out;
  for (std::int64_t x = from; x < to;) {
    out.push_back(x);
    if (out.size() > std::size_t(kMaxValuesPerList))
      reject(path, "expected at most " + std::to_string(kMaxValuesPerList) + " values, the range yields more");
    if (geometric ? x > to / factor : x > to - factor) break;
    x = geometric ? x * factor : x + factor;
  }
  out.push_back(to);
  for (std::int64_t x : out)
    if (rule.power_of_10 && !is_power_of_10(x))
      reject(path, "expected a range of " + rule.text() + ", but it yields " + std::to_string(x));
  return out;
}

// read_values: an integer, "all" (when the rule allows it), a list of those, or a range object.
std::vector<std::int64_t> read_values(const Json& v, const std::string& path, const IntegerRule& rule) {
  std::vector<std::int64_t> out;
  if (v.is_array()) {
    if (v.empty()) reject(path, "expected a non-empty list of " + rule.text() + ", got []");
    if (v.size() > std::size_t(kMaxValuesPerList))
      reject(path, "expected at most " + std::to_string(kMaxValuesPerList) + " values, got " + std::to_string(v.size()));
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(read_integer(v[i], index_path(path, i), rule));
  } else if (v.is_object()) {
    out = read_range(v, path, rule);
  } else if (v.is_number_integer() || (rule.all && v.is_string())) {
    out.push_back(read_integer(v, path, rule));
  } else {
    reject(path, "expected " + rule.text() + ", a list of them, or a range {\"from\", \"to\", \"powers_of\" or \"step\"}, got " +
                     shown(v));
  }
  std::vector<std::int64_t> unique;
  for (auto x : out)
    if (std::find(unique.begin(), unique.end(), x) == unique.end()) unique.push_back(x);
  return unique;
}

std::vector<std::string> read_runtimes(const Json& v, const std::string& path) {
  std::vector<std::string> all_names;
  for (const auto& r : runtimes()) all_names.push_back(r.name);
  if (v.is_string() && v.get<std::string>() == "all") return all_names;
  if (!v.is_array() || v.empty())
    reject(path, "expected \"all\" or a non-empty list of runtime names, got " + shown(v));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string where = index_path(path, i);
    if (!v[i].is_string()) reject(where, "expected a runtime name, got " + shown(v[i]));
    const std::string name = v[i].get<std::string>();
    if (!find_runtime(name))
      reject(where, "unknown runtime " + shown(v[i]) + "; valid: " + runtime_names());
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::vector<std::string> read_stack_policies(const Json& v, const std::string& path) {
  if (!v.is_array() || v.empty()) reject(path, "expected a non-empty list of \"pooled\", \"copy\", got " + shown(v));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || (v[i] != "pooled" && v[i] != "copy"))
      reject(index_path(path, i), "expected \"pooled\" or \"copy\", got " + shown(v[i]));
    if (std::find(out.begin(), out.end(), v[i].get<std::string>()) == out.end()) out.push_back(v[i].get<std::string>());
  }
  return out;
}

double read_timeout(const Json& v, const std::string& path) {
  if (!v.is_number() || v.get<double>() <= 0 || v.get<double>() > 7 * 86400.0)
    reject(path, "expected a number of seconds > 0 (at most a week), got " + shown(v));
  return v.get<double>();
}

// Settings: what a workload entry inherits from the top level and may override.
struct Settings {
  int repetitions = 5;
  double timeout_s = 60;
  std::vector<std::int64_t> workers;
  std::vector<std::string> runtimes;
  std::vector<std::string> stack_policies;  // empty: each runtime's default
  std::size_t stack_size = 0;               // --stack-size for the runtimes that take one; 0: their default
};

const std::vector<std::string> kSettingKeys = {"runtimes", "workers", "repetitions", "timeout_s", "stack_policies",
                                               "stack_size"};

Settings read_settings(const Json& object, const std::string& path, Settings s) {
  const IntegerRule workers_rule{1, 1024, false, default_workers()};
  if (object.contains("repetitions"))
    s.repetitions = int(read_integer(object["repetitions"], key_path(path, "repetitions"), IntegerRule{1, 1000, false, {}}));
  if (object.contains("timeout_s")) s.timeout_s = read_timeout(object["timeout_s"], key_path(path, "timeout_s"));
  if (object.contains("workers")) s.workers = read_values(object["workers"], key_path(path, "workers"), workers_rule);
  if (object.contains("runtimes")) s.runtimes = read_runtimes(object["runtimes"], key_path(path, "runtimes"));
  if (object.contains("stack_policies"))
    s.stack_policies = read_stack_policies(object["stack_policies"], key_path(path, "stack_policies"));
  if (object.contains("stack_size"))
    s.stack_size = std::size_t(
        read_integer(object["stack_size"], key_path(path, "stack_size"), IntegerRule{16384, 67108864, false, {}}));
  return s;
}

// accepts: whether `runtime` accepts --stack-size `stack_size` and --stack-policy `policy` (asks the
// validator, which knows: fiber takes both, boost-fiber a stack size only).
bool accepts(const std::string& runtime, const std::string& workload, std::size_t stack_size, const std::string& policy) {
  try {
    make_case_spec(runtime, workload, {}, 0, 1, stack_size, policy);
    return true;
  } catch (const UsageError&) {
    return false;
  }
}

// estimate_seconds: a deliberately rough guess — the product of the params as "operations", 1 µs each on
// M:N runtimes and 20 µs on thread-per-task ones, plus process start — capped by the timeout.
double estimate_seconds(const CaseSpec& spec, const RuntimeInfo& runtime, double timeout_s) {
  double ops = 1;
  for (const auto& [name, value] : spec.params) ops *= double(value);
  const double ns_per_op = runtime.caps.one_thread_per_task ? 20'000 : 1'000;
  const bool runs = refusal(spec).status.empty();
  const double guess = runs ? 0.05 + spec.repetitions * ops * ns_per_op * 1e-9 : 0.0;
  return std::min(guess, timeout_s);
}

void expand_workload(const std::string& workload, const Json& entry, const std::string& path, const Settings& top,
                     std::vector<SweepCase>& cases, std::set<std::string>& seen) {
  const WorkloadInfo* info = find_workload(workload, test_workloads_enabled());
  if (!info) reject(path, "unknown workload; valid: " + workload_names(test_workloads_enabled()));
  require_object(entry, path);
  std::vector<std::string> keys = kSettingKeys;
  keys.insert(keys.begin(), "params");
  reject_unknown_keys(entry, path, keys);
  const Settings s = read_settings(entry, path, top);

  // One value list per parameter, in the registry's order; defaults for those the file leaves out.
  std::vector<std::vector<std::int64_t>> grid;
  if (entry.contains("params")) {
    const std::string params_path = key_path(path, "params");
    require_object(entry["params"], params_path);
    std::vector<std::string> valid;
    for (const auto& p : info->params) valid.push_back(p.name);
    reject_unknown_keys(entry["params"], params_path, valid);
  }
  for (const auto& p : info->params) {
    const IntegerRule rule{p.min, p.max, p.power_of_10, {}};
    if (entry.contains("params") && entry["params"].contains(p.name))
      grid.push_back(read_values(entry["params"][p.name], key_path(key_path(path, "params"), p.name), rule));
    else
      grid.push_back({p.default_value});
  }

  std::size_t points = 1;
  for (const auto& values : grid) points *= values.size();
  if (points * s.runtimes.size() * s.workers.size() * std::max<std::size_t>(1, s.stack_policies.size()) + cases.size() >
      kMaxCases)
    reject(path, "expands to more than " + std::to_string(kMaxCases) + " cases");

  std::vector<std::size_t> at(grid.size(), 0);
  for (std::size_t point = 0; point < points; ++point) {
    std::vector<std::string> param_args;
    for (std::size_t i = 0; i < grid.size(); ++i) {
      param_args.push_back(info->params[i].name + "=" + std::to_string(grid[i][at[i]]));
    }
    for (const auto& runtime : s.runtimes) {
      const RuntimeInfo& rt = *find_runtime(runtime);  // read_runtimes checked the name
      // A thread-per-task runtime has no workers to vary: one case per parameter point.
      const std::vector<std::int64_t> workers =
          rt.caps.one_thread_per_task ? std::vector<std::int64_t>{0} : s.workers;
      std::vector<std::string> policies{""};
      if (!s.stack_policies.empty() && accepts(runtime, workload, 0, "pooled")) policies = s.stack_policies;
      const std::size_t stack_size = s.stack_size != 0 && accepts(runtime, workload, s.stack_size, "") ? s.stack_size : 0;
      for (auto w : workers)
        for (const auto& policy : policies) {
          SweepCase c;
          c.timeout_s = s.timeout_s;
          try {
            c.spec = make_case_spec(runtime, workload, param_args, int(w), s.repetitions, stack_size, policy);
          } catch (const UsageError& e) {
            reject(path, e.what());
          }
          c.id = case_id(c.spec);
          c.estimate_s = estimate_seconds(c.spec, rt, c.timeout_s);
          if (seen.insert(c.id).second) cases.push_back(std::move(c));
        }
    }
    for (std::size_t i = grid.size(); i-- > 0;) {  // the last parameter varies fastest
      if (++at[i] < grid[i].size()) break;
      at[i] = 0;
    }
  }
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("sweep file " + path + ": cannot read it");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace

SweepDefinition parse_sweep_text(const std::string& text, const std::string& file) {
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw UsageError("sweep file " + file + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object()) throw UsageError("sweep file " + file + ": expected a JSON object, got " + shown(doc));
  std::vector<std::string> keys{"name", "description", "workloads"};
  keys.insert(keys.end(), kSettingKeys.begin(), kSettingKeys.end());
  reject_unknown_keys(doc, "", keys);

  SweepDefinition def;
  def.file = file;
  def.hash = "sha256:" + sha256_hex(text);
  if (!doc.contains("name")) reject("name", "missing; a sweep needs a name (letters, digits, '.', '_', '-')");
  const Json& name = doc["name"];
  const std::string text_name = name.is_string() ? name.get<std::string>() : std::string();
  const bool name_ok = !text_name.empty() && text_name.size() <= 64 &&
                       std::all_of(text_name.begin(), text_name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
                       });
  if (!name_ok) reject("name", "expected a name of 1..64 letters, digits, '.', '_', '-', got " + shown(name));
  def.name = text_name;
  if (doc.contains("description") && !doc["description"].is_string())
    reject("description", "expected a string, got " + shown(doc["description"]));

  Settings defaults;
  defaults.workers = {default_workers()};
  for (const auto& r : runtimes()) defaults.runtimes.push_back(r.name);
  const Settings top = read_settings(doc, "", defaults);

  if (!doc.contains("workloads")) reject("workloads", "missing; a sweep needs at least one workload");
  const Json& workloads_json = doc["workloads"];
  if (!workloads_json.is_object() || workloads_json.empty())
    reject("workloads", "expected an object of workload name -> {params, ...}, got " + shown(workloads_json));
  std::set<std::string> seen;
  for (const auto& [workload, entry] : workloads_json.items())
    expand_workload(workload, entry, key_path("workloads", workload), top, def.cases, seen);
  return def;
}

SweepDefinition load_sweep_file(const std::string& path) { return parse_sweep_text(read_file_bytes(path), path); }

// ---- SHA-256 (FIPS 180-4), small and dependency-free --------------------------------------------
std::string sha256_hex(std::string_view bytes) {
  static constexpr std::uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  std::uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };

  std::string msg(bytes);
  const std::uint64_t bit_length = std::uint64_t(bytes.size()) * 8;
  msg.push_back(char(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(char((bit_length >> (8 * i)) & 0xff));

  for (std::size_t block = 0; block < msg.size(); block += 64) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = std::uint32_t(static_cast<unsigned char>(msg[block + 4 * i])) << 24 |
             std::uint32_t(static_cast<unsigned char>(msg[block + 4 * i + 1])) << 16 |
             std::uint32_t(static_cast<unsigned char>(msg[block + 4 * i + 2])) << 8 |
             std::uint32_t(static_cast<unsigned char>(msg[block + 4 * i + 3]));
    for (int i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const std::uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::uint32_t word : h)
    for (int shift = 28; shift >= 0; shift -= 4) out.push_back(hex[(word >> shift) & 0xf]);
  return out;
}

}  // namespace spindle
