// calibration.h — a test-only injected slowdown for calibrating the regression detector (scripts/ab,
// scripts/calibrate): with SPINDLE_SLOWDOWN_PCT=P in the environment, every measured run of an in-process
// runtime busy-spins for P% of its own duration inside the timed region, so the measured time grows by P%
// with the run's own noise. Compiled in only when the build has SPINDLE_CALIBRATION; otherwise it is a no-op.
#pragma once

#include <chrono>
#include <cstdlib>
#include <string>

namespace spindle {

// calibration_slowdown_fraction: P/100 from SPINDLE_SLOWDOWN_PCT (0..100), or 0.
inline double calibration_slowdown_fraction() {
#ifdef SPINDLE_CALIBRATION
  static const double fraction = [] {
    const char* v = std::getenv("SPINDLE_SLOWDOWN_PCT");
    if (!v || !*v) return 0.0;
    double pct = std::strtod(v, nullptr);
    return pct > 0 && pct <= 100 ? pct / 100.0 : 0.0;
  }();
  return fraction;
#else
  return 0.0;
#endif
}

// inject_calibration_slowdown: spins for fraction × `elapsed` (nothing when the fraction is 0).
inline void inject_calibration_slowdown(std::chrono::steady_clock::duration elapsed) {
  const double f = calibration_slowdown_fraction();
  if (f <= 0) return;
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(elapsed * f);
  while (std::chrono::steady_clock::now() < until) {
  }
}

}  // namespace spindle
