// noise_test.cpp — harness/noise.h's noisy / bimodal rule on the sample sets of
// tests/fixtures/noise_samples.json (scripts/spindle_report/noise.py is tested on the same file), and the
// summary text of a case's main figure in its own unit (harness/case_summary.h).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "harness/case_summary.h"
#include "harness/noise.h"

namespace spindle {
namespace {

nlohmann::json sample_sets() {
  std::ifstream in(SPINDLE_TEST_FIXTURES "/noise_samples.json");
  EXPECT_TRUE(in.good()) << "cannot read " SPINDLE_TEST_FIXTURES "/noise_samples.json";
  return nlohmann::json::parse(in)["cases"];
}

TEST(Noise, SharedSampleSetsGetTheirExpectedVerdicts) {
  const nlohmann::json sets = sample_sets();
  ASSERT_GE(sets.size(), 10u);
  for (const auto& set : sets) {
    const Noise noise = noise_of(set["samples"].get<std::vector<double>>());
    SCOPED_TRACE(set["name"].get<std::string>());
    EXPECT_NEAR(noise.cv, set["cv"].get<double>(), 1e-6);
    EXPECT_EQ(noise.noisy, set["noisy"].get<bool>());
    EXPECT_EQ(noise.bimodal, set["bimodal"].get<bool>());
  }
}

TEST(Noise, SkynetClustersAreBimodalAndTheGapIsReported) {
  const Noise noise = noise_of({176.2, 102.3, 190.3, 110.8, 125.0, 118.4, 197.1, 129.7, 184.9});
  EXPECT_TRUE(noise.bimodal);
  EXPECT_DOUBLE_EQ(noise.gap_below, 129.7);
  EXPECT_DOUBLE_EQ(noise.gap_above, 176.2);
  EXPECT_DOUBLE_EQ(noise.median, 129.7);
  EXPECT_EQ(noise_flag(noise), " NOISY (cv 26%) BIMODAL");
}

TEST(Noise, QuietUnimodalSamplesCarryNoFlag) {
  const Noise noise = noise_of({92.1, 95.3, 97.4, 99.2, 100.1, 101.0, 102.6, 104.7, 108.1});
  EXPECT_FALSE(noise.noisy);
  EXPECT_FALSE(noise.bimodal);
  EXPECT_EQ(noise_flag(noise), "");
  EXPECT_EQ(noise_of({}).samples, 0u);
}

nlohmann::json iteration(const std::string& workload, const std::string& counter, double value) {
  return {{"workload", workload}, {"run_type", "iteration"}, {"status", "ok"}, {counter, value}, {"ns_per_op", 1.5}};
}

TEST(CaseSummary, EachWorkloadsMainFigureInItsOwnUnit) {
  std::vector<nlohmann::json> memory;
  for (double v : {2180.0, 2190.0, 2170.0}) memory.push_back(iteration("memory-per-task", "rss_bytes_per_task", v));
  const std::string text = figure_text(case_figure(memory));
  EXPECT_EQ(text, ", median 2180 bytes/task, cv 0.5%");
  EXPECT_EQ(text.find("ns/op"), std::string::npos);

  std::vector<nlohmann::json> skynet;
  for (double v : {102.3, 110.8, 118.4, 125.0, 129.7, 176.2, 184.9, 190.3, 197.1})
    skynet.push_back(iteration("skynet", "ns_per_op", v));
  EXPECT_EQ(figure_text(case_figure(skynet)), ", median 129.7 ns/op NOISY (cv 26%) BIMODAL");

  std::vector<nlohmann::json> echo;
  for (double v : {40000.0, 41000.0}) {
    echo.push_back(iteration("echo", "round_trips_per_second", v));
    echo.back()["latency_p99_ns"] = 52000.0;
  }
  EXPECT_EQ(figure_text(case_figure(echo)), ", median 40500 round trips/s, 52000 ns p99, cv 1.7%");

  // A workload that declares no figure (or is unknown here) reads in ns/op.
  EXPECT_EQ(figure_text(case_figure({iteration("no-such-workload", "ns_per_op", 12.25)})), ", 12.2 ns/op");
  EXPECT_EQ(figure_text(case_figure({})), "");
}

}  // namespace
}  // namespace spindle
