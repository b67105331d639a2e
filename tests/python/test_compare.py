# scripts/compare against the checked-in fixtures (tests/fixtures/compare_*.json, see
# test_compare_fixtures.py): exit codes, which cases it names, its outputs, and the statistics beneath it.
import json
import math

import numpy as np
import pytest

from test_compare_fixtures import (FIBER_CASE_IDS, FIBER_TIME_CASE_IDS, SKYNET_BIG, case_id, fixture,
                                   results_document, run_main_in_process, run_script)
from spindle_compare import stats
from spindle_compare.compare_command import main as compare_main
from spindle_compare.matching import parse_results
from spindle_compare.verdict import compare, repetitions_needed

BASE = fixture("compare_base.json")


def run_compare(new_name, *extra, base=BASE):
    """scripts/compare BASE NEW *extra, in process (the script is only main() behind the venv re-exec)."""
    new = fixture(new_name) if isinstance(new_name, str) else new_name
    return run_main_in_process(compare_main, base, new, *extra)


def verdicts_of(json_path):
    document = json.loads(json_path.read_text())
    return {case["case_id"]: case["verdict"] for case in document["cases"]}, document


def test_identical_files_exit_0_and_every_tested_case_unchanged(tmp_path):
    result = run_compare("compare_base.json", "--json", tmp_path / "v.json")
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts, document = verdicts_of(tmp_path / "v.json")
    assert set(verdicts.values()) == {"unchanged", "not-ok"}
    assert all(case["ratio"] == 1.0 for case in document["cases"] if case["ratio"] is not None)
    assert "RESULT: no regression" in result.stdout


def test_same_truth_with_fresh_noise_is_no_false_alarm(tmp_path):
    result = run_compare("compare_noise.json", "--json", tmp_path / "v.json")
    assert result.returncode == 0, result.stdout
    verdicts, _ = verdicts_of(tmp_path / "v.json")
    assert not {"regression", "improvement", "broken"} & set(verdicts.values())


def test_fiber_30_percent_slower_exits_1_naming_exactly_the_fiber_cases(tmp_path):
    # The real script, in its own interpreter: this is the done-when.
    result = run_script("compare", BASE, fixture("compare_fiber_slower.json"), "--json", tmp_path / "v.json")
    assert result.returncode == 1, result.stdout + result.stderr
    verdicts, document = verdicts_of(tmp_path / "v.json")
    regressed = {cid for cid, verdict in verdicts.items() if verdict == "regression"}
    assert regressed == set(FIBER_TIME_CASE_IDS)
    result_line = result.stdout.strip().splitlines()[-1]
    assert result_line.startswith(f"RESULT: {len(FIBER_TIME_CASE_IDS)} regression(s)")
    for cid in FIBER_TIME_CASE_IDS:
        assert cid in result_line
    for case in document["cases"]:
        if case["case_id"] in regressed:
            assert 1.2 < case["ratio"] < 1.4 and case["ci_low"] > 1.0 and case["p_slower_holm"] < 0.01


def test_swapping_the_files_turns_the_regressions_into_improvements(tmp_path):
    result = run_compare(BASE, "--json", tmp_path / "v.json", base=fixture("compare_fiber_slower.json"))
    assert result.returncode == 0
    verdicts, _ = verdicts_of(tmp_path / "v.json")
    assert {cid for cid, v in verdicts.items() if v == "improvement"} == set(FIBER_TIME_CASE_IDS)


def test_improvement_is_detected_and_does_not_fail(tmp_path):
    result = run_compare("compare_fiber_faster.json", "--json", tmp_path / "v.json")
    assert result.returncode == 0
    verdicts, _ = verdicts_of(tmp_path / "v.json")
    improved = {cid for cid, v in verdicts.items() if v == "improvement"}
    assert improved == {cid for cid in FIBER_CASE_IDS if cid.startswith(("ping-pong/", "skynet/"))}
    assert "2 improvement(s)" in result.stdout


def test_new_and_missing_cases_are_listed(tmp_path):
    result = run_compare("compare_cases_changed.json", "--json", tmp_path / "v.json")
    assert result.returncode == 0
    new_case, missing_case = case_id(*SKYNET_BIG[:4]), "skynet/go/leaves:100000/workers:2"
    assert f"new cases (only in NEW): 1\n  {new_case}" in result.stdout
    assert f"missing cases (only in BASE): 1\n  {missing_case}" in result.stdout
    _, document = verdicts_of(tmp_path / "v.json")
    assert document["new_cases"] == [new_case] and document["missing_cases"] == [missing_case]


def test_a_case_that_crashes_in_new_fails_the_gate():
    result = run_compare("compare_crashed.json")
    assert result.returncode == 1
    assert "broken" in result.stdout and "crashed x1 (killed by signal 11" in result.stdout
    assert "spawn-million/fiber/tasks:100000/workers:2/stack_policy:pooled (broken)" in result.stdout


def test_environment_differences_are_warned_about():
    result = run_compare("compare_other_machine.json")
    assert result.returncode == 0
    assert "warning: environments differ: cpu_model differs" in result.stdout
    assert "warning: environments differ: compiler differs" in result.stdout
    assert "go_version differs" not in result.stdout


@pytest.mark.parametrize("content, message", [
    (None, "not Spindle results JSON (no context.spindle_schema"),
    ('{"context": {"spindle_schema": 1}}', "no 'benchmarks' array"),
    ("[1, 2", "not JSON"),
    ('{"context": {"spindle_schema": 7}, "benchmarks": []}', "spindle_schema 7 is not supported"),
])
def test_bad_input_exits_2_with_one_clear_line(tmp_path, content, message):
    path = fixture("compare_not_spindle.json")
    if content is not None:
        path = tmp_path / "bad.json"
        path.write_text(content)
    result = run_compare(path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_missing_file_and_no_common_cases_exit_2(tmp_path):
    missing = run_compare(tmp_path / "nope.json")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    disjoint = run_script("compare", BASE, fixture("compare_disjoint.json"))
    assert disjoint.returncode == 2 and disjoint.stderr.startswith("compare: error: no common cases")


def test_markdown_summary_and_colours(tmp_path):
    piped = run_compare("compare_fiber_slower.json", "--markdown", tmp_path / "summary.md")
    assert "\033[" not in piped.stdout
    markdown = (tmp_path / "summary.md").read_text()
    assert markdown.startswith("## Spindle performance comparison")
    assert f"**RESULT: {len(FIBER_TIME_CASE_IDS)} regression(s)" in markdown
    assert markdown.count("| **regression** |") == len(FIBER_TIME_CASE_IDS)
    coloured = run_compare("compare_fiber_slower.json", "--colour", "always")
    assert "\033[1;31mregression" in coloured.stdout


# ---- in-process: the verdict rules -------------------------------------------------------------------

def _compare_documents(base_doc, new_doc, **options):
    return compare(parse_results(base_doc, "BASE"), parse_results(new_doc, "NEW"), **options)


def test_too_few_repetitions_are_flagged_as_unable_to_detect():
    slower = lambda cid: 1.3 if cid.split("/")[1] == "fiber" else 1.0  # noqa: E731
    comparison = _compare_documents(results_document(11, reps=5), results_document(12, reps=5, factor=slower))
    assert comparison.exit_code == 0   # 5 vs 5 over 13 cases: min Holm p = 13/252 > 0.01
    assert any("cannot be significant at alpha 0.01" in w and ">= 7 repetitions" in w
               for w in comparison.warnings)
    uncertain = {c.case_id for c in comparison.cases if c.verdict == "uncertain"}
    assert set(FIBER_CASE_IDS) <= uncertain   # beyond the threshold, but not provably
    assert not comparison.with_verdict("regression", "improvement")
    # With --alpha 0.1 the same data is enough: 13/252 = 0.052 < 0.1.
    assert _compare_documents(results_document(11, reps=5), results_document(12, reps=5, factor=slower),
                              alpha=0.1).exit_code == 1


def test_significant_change_below_the_threshold_is_not_a_regression():
    quiet = results_document(13)
    for record in quiet["benchmarks"]:   # squeeze the noise so a 3% shift is highly significant
        if record.get("ns_per_op"):
            record["ns_per_op"] = round(100.0 * (1 + 0.001 * record["repetition_index"]), 3)
    shifted = json.loads(json.dumps(quiet))
    for record in shifted["benchmarks"]:
        if record.get("ns_per_op"):
            record["ns_per_op"] = round(record["ns_per_op"] * 1.03, 3)
    comparison = _compare_documents(quiet, shifted)
    tested = [c for c in comparison.cases if c.ratio is not None and c.metric == "ns_per_op"]
    assert tested and all(c.p_slower_holm < 0.01 and c.verdict == "unchanged" for c in tested)
    assert _compare_documents(quiet, shifted, threshold=0.02).exit_code == 1


def _rounds_document(rng, rounds, reps, true_value=100.0):
    """A file merged by scripts/ab: per round a shared machine-load factor, tiny noise inside a round."""
    records = []
    for round_number in range(1, rounds + 1):
        load = float(np.exp(rng.normal(0, 0.10)))
        for index in range(reps):
            records.append({"run_type": "iteration", "case_id": "skynet/fiber/leaves:1000/workers:2",
                            "workload": "skynet", "runtime": "fiber", "status": "ok",
                            "ab_round": round_number,
                            "repetition_index": index,
                            "ns_per_op": true_value * load * float(np.exp(rng.normal(0, 0.005)))})
    return {"context": {"spindle_schema": 1, "env": {}}, "benchmarks": records}


def test_round_unit_keeps_correlated_repetitions_from_crying_wolf():
    # A/A: same truth, 8 rounds x 5 repetitions a side. Treating the 40 repetitions as independent
    # mistakes one round's load for an effect; one observation per round does not.
    rng = np.random.default_rng(5)
    alarms = {"repetition": 0, "round": 0}
    for _ in range(40):
        base, new = _rounds_document(rng, 8, 5), _rounds_document(rng, 8, 5)
        for unit in alarms:
            comparison = compare(parse_results(base, "B", unit), parse_results(new, "N", unit),
                                 resamples=1000, unit=unit)
            alarms[unit] += comparison.exit_code
    assert alarms["round"] <= 2            # alpha 0.01 over 40 A/A comparisons: 0.4 expected
    # The failure mode --unit round exists for: at a true rate of alpha = 0.01, 4 or more alarms in 40
    # would happen with probability 8e-5 (this data gives 5).
    assert alarms["repetition"] >= 4


def test_round_unit_needs_ab_merged_files():
    result = run_compare("compare_noise.json", "--unit", "round")
    assert result.returncode == 2 and "needs records tagged with ab_round" in result.stderr


def test_repetitions_needed():
    assert repetitions_needed(1, 0.01) == 5     # 1/C(10,5) = 0.004
    assert repetitions_needed(13, 0.01) == 7    # 13/C(14,7) = 0.0038, 13/C(12,6) = 0.014
    assert repetitions_needed(13, 0.05) == 6


# ---- the statistics -----------------------------------------------------------------------------------

def test_holm_on_a_known_example():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> monotone: 0.02 0.03 0.06 0.06
    assert stats.holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm_adjust([0.9, 0.02]) == pytest.approx([0.9, 0.04])
    assert stats.holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped, and never below a smaller p
    assert stats.holm_adjust([]) == []


def test_mann_whitney_complete_separation_gives_the_exact_smallest_p():
    base, new = list(range(10)), [x + 100.0 for x in range(10)]
    assert stats.mann_whitney_p(base, new, "greater") == pytest.approx(1 / math.comb(20, 10))
    assert stats.smallest_one_sided_p(10, 10) == pytest.approx(1 / math.comb(20, 10))
    assert stats.mann_whitney_p(base, new, "less") == pytest.approx(1.0)


def test_bootstrap_interval_contains_the_true_ratio():
    rng = np.random.default_rng(3)
    base, new = 100 * np.exp(rng.normal(0, 0.05, 10)), 110 * np.exp(rng.normal(0, 0.05, 10))
    low, high = stats.bootstrap_ratio_ci(base, new)
    assert low < 1.10 < high and low > 1.0
    assert stats.bootstrap_ratio_ci(base, new) == (low, high)  # deterministic


def test_bootstrap_interval_covers_the_true_ratio_about_95_percent_of_the_time():
    # 300 synthetic data sets, 10 lognormal repetitions a side, true ratio of medians 1.1.
    # Binomial sd of the coverage at 0.95 over 300 sets is 0.0126: accept 3 sd around nominal.
    rng = np.random.default_rng(7)
    hits = 0
    for trial in range(300):
        base, new = 100 * np.exp(rng.normal(0, 0.05, 10)), 110 * np.exp(rng.normal(0, 0.05, 10))
        low, high = stats.bootstrap_ratio_ci(base, new, resamples=2000, stream=str(trial))
        hits += low <= 1.1 <= high
    assert 0.912 <= hits / 300 <= 0.988
