# The blocking charts of scripts/report (spindle_report/blocking_charts.py) on a real small sweep
# (tests/fixtures/report_blocking_small.json: blocking-syscall and hog-latency at small sizes on thread,
# fiber, boost-fiber and go, 2 workers): the lateness chart draws p50, p99 and max per runtime as the median
# over repetitions, unclipped, with hog-ms marked; the blocking-syscall chart the median steps per second and
# p99 step gap per runtime; no chart when neither workload ran; both hooked into the full report.
from __future__ import annotations

import json
import statistics

import pytest

from conftest import REPO_ROOT
from spindle_report import charts, results
from spindle_report.blocking_charts import LATENESS, blocking_charts

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "report_blocking_small.json"


@pytest.fixture(scope="module")
def loaded():
    r = results.load(FIXTURE)
    return r, blocking_charts(r, charts.series_colors(r.series))


def raw_medians(workload: str, counter: str) -> dict[str, float]:
    per_series: dict[str, list[float]] = {}
    for rec in json.loads(FIXTURE.read_text())["benchmarks"]:
        if rec["workload"] == workload and rec.get("run_type") != "aggregate" and rec["status"] == "ok":
            label = rec["runtime"] + (f" ({rec['stack_policy']})" if rec.get("stack_policy") else "")
            per_series.setdefault(label, []).append(rec[counter])
    return {k: statistics.median(v) for k, v in per_series.items()}


def test_both_charts_are_drawn(loaded):
    _, drawn = loaded
    assert [c.name for c in drawn] == ["blocking-hog-lateness", "blocking-syscall-steps"]


def test_lateness_bars_are_the_median_percentiles_per_runtime(loaded):
    r, drawn = loaded
    ax = drawn[0].figure.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert {"thread", "go", "boost-fiber"} <= {label.split(" (")[0] for label in labels}
    containers = ax.containers
    assert len(containers) == len(LATENESS)
    for (name, counter), bars in zip(LATENESS, containers):
        want = raw_medians("hog-latency", counter)
        for label, bar in zip(labels, bars):
            assert bar.get_height() == pytest.approx(max(want[label], 1)), (name, label)
    maxima = [bar.get_height() for bar in containers[-1]]
    assert max(maxima) == pytest.approx(max(raw_medians("hog-latency", "lateness_max_ns").values()))  # unclipped
    assert any("hog-ms" in t.get_text() for t in ax.texts)


def test_steps_chart_shows_steps_per_second_and_p99_gap(loaded):
    _, drawn = loaded
    left, right = drawn[1].figure.axes
    labels = [t.get_text() for t in left.get_xticklabels()]
    steps = raw_medians("blocking-syscall", "steps_per_second")
    gaps = raw_medians("blocking-syscall", "step_gap_p99_ns")
    for label, bar in zip(labels, left.containers[0]):
        assert bar.get_height() == pytest.approx(steps[label])
    for label, bar in zip(labels, right.patches):
        assert bar.get_height() == pytest.approx(max(gaps[label], 1))


def test_no_blocking_workload_means_no_chart():
    r = results.load(REPO_ROOT / "tests" / "fixtures" / "report_real_quick_sweep.json")
    assert blocking_charts(r, charts.series_colors(r.series)) == []


def test_the_report_includes_them(loaded):
    r, _ = loaded
    names = [c.name for c in charts.build_charts(r)]
    assert "blocking-hog-lateness" in names and "blocking-syscall-steps" in names
