// sweep.cpp — placeholder until the sweep runner lands.
#include "harness/sweep.h"

namespace spindle {
CLI::App* add_sweep_subcommand(CLI::App& app, SweepArgs& args) {
  auto* s = app.add_subcommand("sweep", "run a sweep file, each case in its own process");
  s->add_option("file", args.file, "sweep file (default harness/sweeps/quick.json)");
  return s;
}
int run_sweep(const SweepArgs&) { return 2; }
}  // namespace spindle
