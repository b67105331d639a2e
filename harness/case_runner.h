// case_runner.h — runs one case: refuses it first when unsupported or over the machine's limits, else
// times its repetitions with Google Benchmark (manual time = the workload's own run, aggregates by
// Google Benchmark) and returns Spindle's records (docs/results-format.md). Never prints results itself;
// progress goes to the given stream.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/registry.h"

namespace spindle {

struct CaseReport {
  std::string status;  // ok, failed, unsupported, limit
  std::string reason;
  std::vector<nlohmann::json> records;
};

// refusal: the status and reason that keep a case from running (unsupported, limit), or empty status.
CaseReport refusal(const CaseSpec& spec);

CaseReport run_case(const CaseSpec& spec, std::ostream& progress);

// status_record: the one record of a case that did not run (unsupported, limit, crashed, timeout ...).
nlohmann::json status_record(const CaseSpec& spec, const std::string& status, const std::string& reason);

// results_document: a whole results file from its records.
nlohmann::json results_document(const std::vector<nlohmann::json>& records);

}  // namespace spindle
