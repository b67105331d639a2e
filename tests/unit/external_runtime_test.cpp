// external_runtime_test.cpp — the external-runtime manifests: every embedded one parses and names a
// program, a malformed one is refused naming what is wrong, and the program's path honours its
// environment override (docs/external-runtimes.md).
#include "harness/external_runtime.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <set>
#include <stdexcept>

namespace spindle {
namespace {

constexpr const char* kManifest = R"({
  "name": "test-lang", "summary": "s", "program": "spindle-test", "program_env": "SPINDLE_TEST_LANG",
  "version_args": ["version"], "list_args": ["list"], "version_field": "test_version",
  "record_labels": ["test_version"], "record_counters": ["c"], "process_per_repetition": ["memory-per-task"],
  "missing": "not built", "capabilities": {"blocking_channels": true, "yield": true}
})";

TEST(ExternalRuntime, EmbeddedManifestsParseAndAreRegistered) {
  std::set<std::string> names;
  for (const auto& m : external_manifests()) {
    names.insert(m.name);
    EXPECT_FALSE(m.program.empty()) << m.name;
    EXPECT_FALSE(m.version_field.empty()) << m.name;
    EXPECT_FALSE(m.missing.empty()) << m.name;
    const RuntimeInfo* info = find_runtime(m.name);
    ASSERT_NE(info, nullptr) << m.name;
    EXPECT_TRUE(info->external);
    EXPECT_TRUE(info->lacks_workload);
  }
  for (const char* want : {"go", "java-vthreads", "tokio"}) EXPECT_TRUE(names.count(want)) << want;
}

TEST(ExternalRuntime, ParsesEveryField) {
  ExternalManifest m = parse_external_manifest(kManifest);
  EXPECT_EQ(m.name, "test-lang");
  EXPECT_EQ(m.program, "spindle-test");
  EXPECT_EQ(m.program_env, "SPINDLE_TEST_LANG");
  EXPECT_EQ(m.record_counters, std::vector<std::string>{"c"});
  EXPECT_EQ(m.process_per_repetition, std::vector<std::string>{"memory-per-task"});
  EXPECT_TRUE(m.caps.blocking_channels && m.caps.yield);
  EXPECT_FALSE(m.caps.parking || m.caps.fork_join_channels || m.caps.one_thread_per_task);
}

TEST(ExternalRuntime, RefusesMalformedManifests) {
  std::string unknown_cap = kManifest;
  unknown_cap.replace(unknown_cap.find("\"yield\""), 7, "\"teleport\"");
  try {
    parse_external_manifest(unknown_cap);
    FAIL() << "an unknown capability was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown capability 'teleport'"), std::string::npos) << e.what();
  }
  std::string slash = kManifest;
  slash.replace(slash.find("spindle-test"), 12, "bin/x");
  EXPECT_THROW(parse_external_manifest(slash), std::runtime_error);
  std::string missing = kManifest;
  missing.replace(missing.find("\"missing\""), 9, "\"absent\"");
  EXPECT_ANY_THROW(parse_external_manifest(missing));
}

TEST(ExternalRuntime, ProgramPathHonoursItsEnvironmentVariable) {
  ExternalManifest m = parse_external_manifest(kManifest);
  setenv("SPINDLE_TEST_LANG", "/bin/true", 1);
  EXPECT_EQ(external_program(m), "/bin/true");
  setenv("SPINDLE_TEST_LANG", "/nonexistent/spindle-test", 1);
  EXPECT_EQ(external_program(m), "");
  unsetenv("SPINDLE_TEST_LANG");
  EXPECT_EQ(external_program(m), "");  // nothing called spindle-test beside the test binary
}

}  // namespace
}  // namespace spindle
