// noise.cpp — the noisy / bimodal rule of noise.h.
#include "harness/noise.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace spindle {

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double stddev_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double mean = mean_of(v);
  double squares = 0;
  for (double x : v) squares += x * x;
  const double n = double(v.size());
  return std::sqrt(std::max(0.0, n / (n - 1) * (squares / n - mean * mean)));
}

double cv_of(const std::vector<double>& v) { return v.size() < 2 ? 0.0 : stddev_of(v) / mean_of(v); }

Noise noise_of(std::vector<double> v) {
  Noise out;
  out.samples = v.size();
  if (v.empty()) return out;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  out.median = median_of(v);
  out.mean = mean_of(v);
  out.cv = out.mean > 0 ? cv_of(v) : 0.0;
  out.noisy = out.cv > kNoisyCv;
  if (n < kBimodalMinSamples) return out;
  std::size_t cut = 1;  // the gap lies between v[cut - 1] and v[cut]; the first largest wins ties
  for (std::size_t i = 2; i < n; ++i)
    if (v[i] - v[i - 1] > v[cut] - v[cut - 1]) cut = i;
  const double gap = v[cut] - v[cut - 1];
  if (cut < kBimodalMinSide || n - cut < kBimodalMinSide) return out;
  const double wider = std::max(v[cut - 1] - v.front(), v.back() - v[cut]);
  if (gap >= kBimodalMinGapOfMedian * std::fabs(out.median) && gap > kBimodalGapOverRange * wider) {
    out.bimodal = true;
    out.gap_below = v[cut - 1];
    out.gap_above = v[cut];
  }
  return out;
}

std::string noise_flag(const Noise& noise) {
  std::string flag;
  if (noise.noisy) {
    char buf[48];
    std::snprintf(buf, sizeof buf, " NOISY (cv %.0f%%)", noise.cv * 100);
    flag += buf;
  }
  if (noise.bimodal) flag += " BIMODAL";
  return flag;
}

}  // namespace spindle
