// case_spec.h — turns user-supplied names and `k=v` strings into a validated CaseSpec, or a UsageError
// that names the bad value and the valid choices.
#pragma once

#include <string>
#include <vector>

#include "harness/registry.h"

namespace spindle {

// parse_param_value: `text` as an integer within `spec`'s range and rules; `where` prefixes the message.
std::int64_t parse_param_value(const ParamSpec& spec, const std::string& workload, const std::string& text);

// make_case_spec: looks up runtime and workload, fills param defaults, validates everything.
CaseSpec make_case_spec(const std::string& runtime, const std::string& workload,
                        const std::vector<std::string>& params, int workers, int repetitions,
                        std::size_t stack_size, const std::string& stack_policy);

// case_arguments: the command-line arguments that describe `spec` to `spindle run` and to spindle-go:
// --workload W, --param k=v for every param, --workers N, --repetitions R, and the stack options when set.
std::vector<std::string> case_arguments(const CaseSpec& spec);

std::string runtime_names();
std::string workload_names(bool include_test_only);
std::string describe_range(const ParamSpec& spec);

}  // namespace spindle
