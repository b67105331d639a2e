# scripts/history and the change-point detector: adding runs, idempotence, change points on synthetic
# step series (and none on flat noise), and the trend charts scripts/report draws from a history.
import json

import numpy as np
import pytest

from test_compare_fixtures import ALL_CASE_IDS, fixture, results_document, run_main_in_process, run_script
from spindle_compare.changepoint import detect_change_points
from spindle_compare.history import case_series, load_history
from spindle_compare.history_command import main as history_main
from spindle_compare.trend import chart_file_stem, write_trend_charts

FIBER_PING_PONG = "ping-pong/fiber/pairs:1/round-trips:100000/workers:2/stack_policy:pooled"


def step_series(seed, levels, per_level, sigma=0.03):
    rng = np.random.default_rng(seed)
    return np.concatenate([level * np.exp(rng.normal(0, sigma, per_level)) for level in levels])


def test_a_step_is_found_where_it_is():
    points = detect_change_points(step_series(1, [100, 120], 10))
    assert [point.index for point in points] == [10]
    assert points[0].relative_shift == pytest.approx(0.20, abs=0.04)


def test_two_steps_are_both_found_with_their_own_levels():
    points = detect_change_points(step_series(2, [100, 130, 170], 8, sigma=0.02))
    assert [point.index for point in points] == [8, 16]
    assert points[0].after == pytest.approx(130, rel=0.03)
    assert points[1].before == pytest.approx(130, rel=0.03)


def test_a_regression_and_its_fix_are_both_found():
    points = detect_change_points(step_series(2, [100, 130, 100], 30, sigma=0.02))
    assert [point.index for point in points] == [30, 60]
    assert points[1].relative_shift == pytest.approx(100 / 130 - 1, abs=0.03)


def test_flat_noise_and_small_shifts_give_no_change_point():
    false_alarms = sum(bool(detect_change_points(step_series(seed, [100], 20))) for seed in range(100))
    assert false_alarms <= 3          # a few at most
    assert detect_change_points(step_series(3, [100, 103], 10, sigma=0.005)) == []   # below min_shift
    assert detect_change_points([100.0] * 12) == []
    assert detect_change_points([100.0, 130.0]) == []   # too short to tell


def test_history_add_records_medians_once(tmp_path):
    history_file = tmp_path / "history.json"
    first = run_script("history", "add", fixture("compare_base.json"), "--file", history_file)
    assert first.returncode == 0, first.stderr
    again = run_main_in_process(history_main, "add", fixture("compare_base.json"), "--file", history_file)
    assert "already recorded" in again.stdout
    history = load_history(history_file)
    assert len(history["runs"]) == 1
    run = history["runs"][0]
    assert run["git_revision"] == "1111111" and run["date"].startswith("2026-12-01")
    base = json.loads(fixture("compare_base.json").read_text())
    values = [r["ns_per_op"] for r in base["benchmarks"]
              if r.get("case_id") == FIBER_PING_PONG and r["run_type"] == "iteration"]
    assert run["medians"][FIBER_PING_PONG] == pytest.approx(float(np.median(values)))
    assert "ping-pong/pool/pairs:4/round-trips:100000/workers:2" not in run["medians"]  # unsupported
    assert run["metrics"]["memory-per-task/go/tasks:10000/workers:2"] == "rss_bytes_per_task"


def test_history_rejects_non_spindle_input(tmp_path):
    result = run_main_in_process(history_main, "add", fixture("compare_not_spindle.json"),
                                 "--file", tmp_path / "h.json")
    assert result.returncode == 2 and "not Spindle results JSON" in result.stderr
    assert not (tmp_path / "h.json").exists()


KEPT_CASES = {FIBER_PING_PONG, "ping-pong/go/pairs:1/round-trips:100000/workers:2",
              "memory-per-task/fiber/tasks:10000/workers:2/stack_policy:pooled"}


def _history_with_a_step(tmp_path):
    """12 runs of three cases; the fiber cases get 25% slower from run 7 on."""
    history_file = tmp_path / "history.json"
    for run in range(12):
        factor = (lambda c: 1.25 if "/fiber/" in c else 1.0) if run >= 6 else (lambda c: 1.0)
        document = results_document(100 + run, factor=factor, revision=f"rev{run:04d}", reps=3,
                                    drop=set(ALL_CASE_IDS) - KEPT_CASES)
        document["context"]["date"] = f"2026-11-{run + 1:02d}T10:00:00+00:00"
        path = tmp_path / f"run{run}.json"
        path.write_text(json.dumps(document))
        assert run_main_in_process(history_main, "add", path, "--file", history_file).returncode == 0
    return history_file


def test_change_points_of_a_history_are_listed(tmp_path):
    history_file = _history_with_a_step(tmp_path)
    result = run_main_in_process(history_main, "changes", "--file", history_file)
    assert result.returncode == 0
    lines = [line for line in result.stdout.splitlines() if " at run " in line]
    assert len(lines) == 2
    assert all("/fiber/" in line and " at run 7 (revision rev0006" in line for line in lines)
    assert sum(FIBER_PING_PONG in line for line in lines) == 1
    indices, values = case_series(load_history(history_file), FIBER_PING_PONG)
    assert indices == list(range(12)) and len(values) == 12


def test_trend_charts_one_per_case_and_format(tmp_path):
    history = load_history(_history_with_a_step(tmp_path))
    written = write_trend_charts(history, tmp_path / "charts", ["png", "svg"])
    assert len(written) == 2 * len(KEPT_CASES)
    assert all(path.exists() and path.stat().st_size > 1000 for path in written)
    svg = (tmp_path / "charts" / f"{chart_file_stem(FIBER_PING_PONG)}.svg").read_text()
    assert "+2" in svg  # the change point's label, e.g. "+25%"
