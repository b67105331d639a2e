// case_spec_test.cpp — validation of runtime, workload and parameter input: every bad value is named.
#include <gtest/gtest.h>

#include "harness/case_spec.h"
#include "harness/usage_error.h"

namespace spindle {
namespace {

std::string error_of(const std::string& rt, const std::string& wl, const std::vector<std::string>& params,
                     int workers = 0, int reps = 5, const std::string& policy = "") {
  try {
    make_case_spec(rt, wl, params, workers, reps, 0, policy);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(CaseSpec, DefaultsAreFilledIn) {
  CaseSpec s = make_case_spec("thread", "ping-pong", {"pairs=4"}, 0, 5, 0, "");
  EXPECT_EQ(s.params.at("pairs"), 4);
  EXPECT_EQ(s.params.at("round-trips"), 100000);
  EXPECT_GT(s.options.workers, 0);
  EXPECT_EQ(case_id(s), "ping-pong/thread/pairs:4/round-trips:100000/workers:" + std::to_string(s.options.workers));
}

TEST(CaseSpec, AcceptsDigitSeparators) {
  EXPECT_EQ(make_case_spec("pool", "spawn-million", {"tasks=1_000"}, 2, 1, 0, "").params.at("tasks"), 1000);
}

TEST(CaseSpec, BadInputNamesTheValueAndTheChoices) {
  EXPECT_NE(error_of("threads", "skynet", {}).find("unknown runtime 'threads'; valid: thread, pool"), std::string::npos);
  EXPECT_NE(error_of("thread", "sky", {}).find("unknown workload 'sky'; valid: spawn-million"), std::string::npos);
  EXPECT_NE(error_of("thread", "skynet", {"depth=3"}).find("unknown param 'depth' for skynet; valid: leaves"),
            std::string::npos);
  EXPECT_NE(error_of("thread", "skynet", {"leaves=ten"}).find("'ten' is not an integer"), std::string::npos);
  EXPECT_NE(error_of("thread", "skynet", {"leaves=20"}).find("not a power of 10"), std::string::npos);
  EXPECT_NE(error_of("thread", "skynet", {"leaves=0"}).find("out of range"), std::string::npos);
  EXPECT_NE(error_of("thread", "skynet", {"leaves"}).find("expected NAME=VALUE"), std::string::npos);
  EXPECT_NE(error_of("thread", "skynet", {"leaves=10", "leaves=100"}).find("given twice"), std::string::npos);
  EXPECT_NE(error_of("thread", "skynet", {}, -1).find("--workers -1"), std::string::npos);
  EXPECT_NE(error_of("thread", "skynet", {}, 0, 0).find("--repetitions 0"), std::string::npos);
  EXPECT_NE(error_of("thread", "skynet", {}, 0, 5, "copy").find("fiber runtime only"), std::string::npos);
}

TEST(CaseSpec, TestWorkloadsAreHiddenUnlessEnabled) {
  unsetenv("SPINDLE_TEST_WORKLOADS");
  EXPECT_NE(error_of("thread", "fault-crash", {}).find("unknown workload"), std::string::npos);
  setenv("SPINDLE_TEST_WORKLOADS", "1", 1);
  EXPECT_EQ(error_of("thread", "fault-crash", {}), "");
  unsetenv("SPINDLE_TEST_WORKLOADS");
}

}  // namespace
}  // namespace spindle
