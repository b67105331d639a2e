// test_policy.h — the stack-policy parametrization every fiber test suite uses: `kPolicies` (pooled, copy),
// a gtest name printer, and `config(policy, workers, ...)`. Promises: each parametrized test runs once per
// policy, named `.../pooled` or `.../copy` (plus the worker count where a suite varies it).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "runtimes/fiber/scheduler.h"

namespace spindle::fiber::testing {

inline const auto kPolicies = ::testing::Values(StackPolicy::pooled, StackPolicy::copy);

inline Config config(StackPolicy policy, int workers, std::size_t stack_size = 0, bool guard_pages = true) {
  return Config{.workers = workers, .stack_size = stack_size, .guard_pages = guard_pages, .stack_policy = policy};
}

// PolicyName / PolicyWorkersName: gtest parameter names, e.g. "copy" and "copy_2workers".
struct PolicyName {
  std::string operator()(const ::testing::TestParamInfo<StackPolicy>& info) const {
    return stack_policy_name(info.param);
  }
};
struct PolicyWorkersName {
  std::string operator()(const ::testing::TestParamInfo<std::tuple<StackPolicy, int>>& info) const {
    return std::string(stack_policy_name(std::get<0>(info.param))) + "_" + std::to_string(std::get<1>(info.param)) +
           "workers";
  }
};

}  // namespace spindle::fiber::testing
