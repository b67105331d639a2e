// environment.h — the facts about this machine and build that make a result interpretable: CPU, cores,
// governor, virtualization, kernel, memory, compiler and flags, library versions, git revision, load.
#pragma once

#include <nlohmann/json.hpp>

namespace spindle {

// environment_facts: the `env` object of the results context (see docs/results-format.md).
nlohmann::json environment_facts();

// results_context: the Google-Benchmark-style `context` object, with `spindle_schema` and `env`.
nlohmann::json results_context();

// load_average: the 1, 5 and 15 minute load averages.
nlohmann::json load_average();

inline constexpr int kSpindleSchema = 1;

}  // namespace spindle
