// go_runtime.h — the `go` runtime's C++ side: real goroutines run in the separate program `spindle-go`
// (runtimes/go, built next to `spindle`); this bridge runs it once per case with all repetitions and hands
// its per-repetition records to the case runner, which times nothing itself for them.
#pragma once

#include <memory>
#include <string>

#include "harness/registry.h"

namespace spindle {

inline constexpr const char* kGoRuntimeName = "go";

RuntimeInfo go_runtime_info();
std::unique_ptr<CaseExecutor> make_go_executor(const CaseSpec& spec);

// go_binary: the path of spindle-go ($SPINDLE_GO, else next to this executable); empty if missing.
std::string go_binary();
// go_version: `spindle-go version`, or empty when unavailable.
std::string go_version();

}  // namespace spindle
