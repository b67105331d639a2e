// noise.h — when a case's median should not be trusted: the one C++ definition of "noisy" and "bimodal"
// over the repetitions of a case's main figure (scripts/spindle_report/noise.py is the Python copy; both
// are tested on the same sample sets).
//
//   noisy:   cv = sample stddev / mean (as Google Benchmark computes it) above 10 %.
//   bimodal: a gap test. Sort the samples and take the largest gap between neighbours. Bimodal when there
//            are at least 5 samples, at least 2 on each side of that gap, the gap is at least 10 % of the
//            median, and it is wider than 1.5 × the wider side's range (max − min): two clusters farther
//            apart than either is wide. Simulated on normal samples the rule flags ~1 % of 5-sample and
//            ~0.1 % of 9-sample sets at cv 5 % (more at cv ≥ 10 %, which are flagged noisy anyway);
//            skynet's 100–130 ms / 176–197 ms repetitions are flagged.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace spindle {

inline constexpr double kNoisyCv = 0.10;
inline constexpr std::size_t kBimodalMinSamples = 5;
inline constexpr std::size_t kBimodalMinSide = 2;
inline constexpr double kBimodalMinGapOfMedian = 0.10;
inline constexpr double kBimodalGapOverRange = 1.5;

struct Noise {
  std::size_t samples = 0;
  double median = 0;
  double mean = 0;
  double cv = 0;  // 0 with fewer than 2 samples
  bool noisy = false;
  bool bimodal = false;
  double gap_below = 0, gap_above = 0;  // bimodal: the samples either side of the gap
};

// Google Benchmark's statistics (src/statistics.cc), which the sweep's aggregates and noise_of share:
// mean; median of the middle one or two; sample stddev; cv = stddev / mean; with one value stddev and cv
// are 0.
double mean_of(const std::vector<double>& v);
double median_of(std::vector<double> v);
double stddev_of(const std::vector<double>& v);
double cv_of(const std::vector<double>& v);

Noise noise_of(std::vector<double> samples);

// noise_flag: "" or " NOISY (cv 23%)", " BIMODAL", or both — what a summary line appends.
std::string noise_flag(const Noise& noise);

}  // namespace spindle
