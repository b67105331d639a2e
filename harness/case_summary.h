// case_summary.h — a case's main figure in its own unit (the workload's MainFigure: ns/op, bytes/task,
// round trips/s ...) with its cv and the noise flags of harness/noise.h, as `spindle run`'s last line, the
// sweep's per-case progress lines and the sweep's closing list of cases not to trust print it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/noise.h"
#include "workloads/workload.h"

namespace spindle {

struct CaseFigure {
  MainFigure figure;       // the workload's (ns/op when the workload is unknown)
  Noise noise;             // over the ok repetitions' main figure; noise.samples == 0: none recorded
  double also_median = 0;  // the median of figure.also, when the workload names one
  bool has_also = false;
};

// case_figure: the main figure of a case's records (its ok iteration records; with none, a median aggregate).
CaseFigure case_figure(const std::vector<nlohmann::json>& records);

// figure_value: a value of a figure as text ("2180", "68934.2").
std::string figure_value(double value);

// figure_text: ", median 2180 bytes/task, cv 1.2%" — ", median 41.0 ns/op NOISY (cv 23%)", "… BIMODAL";
// one repetition: ", 2180 bytes/task"; nothing recorded: "".
std::string figure_text(const CaseFigure& f);

}  // namespace spindle
