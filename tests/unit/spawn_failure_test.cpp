// spawn_failure_test.cpp — a spawn that fails mid-workload ends the run (runtimes/runtime.h): the injected
// fault itself (SPINDLE_FAIL_SPAWN_AT's counter), and on every runtime skynet — whose parents wait on a
// channel for their children — stops at the failed spawn with its reason instead of hanging. Each run is
// a death test (a fresh process, "threadsafe" style): an abandoned run exits without teardown by design.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <system_error>

#include "tests/unit/runtime_list.h"
#include "workloads/skynet.h"

namespace spindle::testing {
namespace {

TEST(SpawnFaultPoint, ThrowsEagainOnTheNthSpawnOnly) {
  set_spawn_fault_at(3);
  EXPECT_NO_THROW(spawn_fault_point());
  EXPECT_NO_THROW(spawn_fault_point());
  try {
    spawn_fault_point();
    ADD_FAILURE() << "the 3rd spawn did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EAGAIN);
    EXPECT_NE(std::string(e.what()).find("spawn (injected by SPINDLE_FAIL_SPAWN_AT=3)"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(spawn_fault_point());
  set_spawn_fault_at(0);
  for (int i = 0; i < 10; ++i) EXPECT_NO_THROW(spawn_fault_point());
}

template <class R>
class SpawnFailure : public ::testing::Test {};
TYPED_TEST_SUITE(SpawnFailure, AllRuntimes, RuntimeNames);

[[noreturn]] void exit_reporting(const char* how, const std::exception_ptr& error) {
  std::fprintf(stderr, "%s: %s\n", how, exception_text(error).c_str());
  std::fflush(stderr);
  std::_Exit(3);
}

// Under an abandon handler (as in the harness) thread, pool and boost-fiber abandon the run at the first
// escaped exception; fiber stops its run itself and rethrows. Either way the reason is the failed spawn.
TYPED_TEST(SpawnFailure, InjectedSpawnFailureEndsSkynetWithItsReason) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        set_abandon_handler([](std::exception_ptr error) { exit_reporting("abandoned", error); });
        set_spawn_fault_at(50);
        try {
          TypeParam rt(options());
          Skynet::run(rt, {{"leaves", 1000}});
        } catch (...) {
          exit_reporting("rethrown", std::current_exception());
        }
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(3), "(abandoned|rethrown): spawn \\(injected by SPINDLE_FAIL_SPAWN_AT=50\\)");
}

}  // namespace
}  // namespace spindle::testing
