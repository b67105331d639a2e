// runtime_list.h — the in-process runtimes every typed test runs on.
#pragma once

#include <gtest/gtest.h>

#include "runtimes/boost_fiber/boost_fiber_runtime.h"
#include "runtimes/pool/pool_runtime.h"
#include "runtimes/fiber/fiber_runtime.h"
#include "runtimes/thread/thread_runtime.h"

namespace spindle::testing {

// FiberCopyRuntime: `fiber` under the copy stack policy, so every typed test runs on both policies.
struct FiberCopyRuntime : FiberRuntime {
  static constexpr std::string_view test_name = "fiber_copy";
  static RuntimeOptions with_copy(RuntimeOptions o) {
    o.stack_policy = "copy";
    return o;
  }
  explicit FiberCopyRuntime(const RuntimeOptions& o) : FiberRuntime(with_copy(o)) {}
};

using AllRuntimes = ::testing::Types<ThreadRuntime, PoolRuntime, FiberRuntime, FiberCopyRuntime, BoostFiberRuntime>;

struct RuntimeNames {
  template <class R>
  static std::string GetName(int) {
    std::string n;
    if constexpr (requires { R::test_name; })
      n = R::test_name;
    else
      n = R::name;
    for (auto& c : n)
      if (c == '-') c = '_';
    return n;
  }
};

// options: 2 workers everywhere, so every test also exercises cross-worker hand-offs.
inline RuntimeOptions options() {
  RuntimeOptions o;
  o.workers = 2;
  return o;
}

}  // namespace spindle::testing
