// case_summary.cpp — see case_summary.h.
#include "harness/case_summary.h"

#include <cmath>
#include <cstdio>

#include "harness/registry.h"

namespace spindle {
namespace {

bool is_ok_iteration(const nlohmann::json& r) {
  return r.value("run_type", "") == "iteration" && r.value("status", "") == "ok";
}

double number_or_nan(const nlohmann::json& r, std::string_view key) {
  auto it = r.find(std::string(key));
  return it != r.end() && it->is_number() ? it->get<double>() : std::nan("");
}

}  // namespace

CaseFigure case_figure(const std::vector<nlohmann::json>& records) {
  CaseFigure out;
  if (records.empty()) return out;
  if (const WorkloadInfo* w = find_workload(records.front().value("workload", ""), true)) out.figure = w->figure;
  std::vector<double> samples, also;
  for (const auto& r : records) {
    if (!is_ok_iteration(r)) continue;
    if (double v = number_or_nan(r, out.figure.counter); std::isfinite(v)) samples.push_back(v);
    if (double v = number_or_nan(r, out.figure.also); !out.figure.also.empty() && std::isfinite(v)) also.push_back(v);
  }
  if (samples.empty())
    for (const auto& r : records)
      if (r.value("aggregate_name", "") == "median")
        if (double v = number_or_nan(r, out.figure.counter); std::isfinite(v)) samples.push_back(v);
  out.noise = noise_of(samples);
  if (!also.empty()) {
    out.also_median = noise_of(also).median;
    out.has_also = true;
  }
  return out;
}

std::string figure_value(double value) {
  char buf[48];
  std::snprintf(buf, sizeof buf, std::fabs(value) < 1000 ? "%.1f" : "%.0f", value);
  return buf;
}

std::string figure_text(const CaseFigure& f) {
  if (f.noise.samples == 0) return {};
  std::string text = f.noise.samples > 1 ? ", median " : ", ";
  text += figure_value(f.noise.median) + " " + std::string(f.figure.unit);
  if (f.has_also) text += ", " + figure_value(f.also_median) + " " + std::string(f.figure.also_unit);
  if (f.noise.samples > 1 && !f.noise.noisy) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ", cv %.1f%%", f.noise.cv * 100);
    text += buf;
  }
  return text + noise_flag(f.noise);
}

}  // namespace spindle
