# The deep-stack chart of scripts/report (spindle_report/stack_charts.py) on a real small sweep
# (tests/fixtures/report_deep_stack_small.json: deep-stack, 200 tasks, depth-kib 16 and 128, on thread,
# boost-fiber and go, 3 repetitions; boost-fiber's 64 KiB stacks cannot hold 128 KiB: `limit`): one panel per
# depth, each runtime's bar the median RSS per parked task after the excursion, Go's after-GC bar the median
# of its after-GC figure, the textbook references and the depth line beside them, a limit written as such.
from __future__ import annotations

import json
import statistics

import pytest

from conftest import REPO_ROOT
from spindle_report import charts, results
from spindle_report.stack_charts import AFTER_GC, REFERENCES, stack_charts

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "report_deep_stack_small.json"


@pytest.fixture(scope="module")
def drawn():
    r = results.load(FIXTURE)
    return stack_charts(r, charts.series_colors(r.series))


def raw_medians(counter: str) -> dict[tuple[str, int], float]:
    per_case: dict[tuple[str, int], list[float]] = {}
    for rec in json.loads(FIXTURE.read_text())["benchmarks"]:
        ok = rec["workload"] == "deep-stack" and rec.get("run_type") != "aggregate" and rec["status"] == "ok"
        if ok and counter in rec:
            per_case.setdefault((rec["runtime"], rec["params"]["depth-kib"]), []).append(rec[counter])
    return {k: statistics.median(v) for k, v in per_case.items()}


def bars(ax):
    """bars: (tick label, height) of every bar of the panel, in x order."""
    labels = {round(t, 2): lab.get_text() for t, lab in zip(ax.get_xticks(), ax.get_xticklabels())}
    return [(labels[round(p.get_x() + p.get_width() / 2, 2)], p.get_height()) for p in ax.patches]


def test_one_chart_one_panel_per_depth(drawn):
    assert [c.name for c in drawn] == ["deep-stack-rss-after-deep"]
    axes = drawn[0].figure.axes
    assert [ax.get_title() for ax in axes] == ["depth-kib = 16, 200 tasks", "depth-kib = 128, 200 tasks"]
    assert all(ax.get_yscale() == "log" for ax in axes)


def test_bars_are_the_medians_and_go_has_its_after_gc_bar(drawn):
    after_deep, after_gc = raw_medians("rss_bytes_per_parked_task_after_deep"), raw_medians(AFTER_GC)
    for ax, depth in zip(drawn[0].figure.axes, (16, 128)):
        heights = dict(bars(ax))
        for runtime in ("thread", "go") + (("boost-fiber",) if depth == 16 else ()):
            assert heights[runtime] == pytest.approx(after_deep[(runtime, depth)])
        assert heights["go\nafter GC"] == pytest.approx(after_gc[("go", depth)])
        for label, size in REFERENCES:
            assert heights[label] == size
        assert any(line.get_ydata()[0] == depth * 1024 for line in ax.get_lines())  # the depth line


def test_a_limit_is_written_not_drawn(drawn):
    ax = drawn[0].figure.axes[1]
    assert "boost-fiber" not in dict(bars(ax))
    assert "limit" in [t.get_text() for t in ax.texts]


def test_the_chart_is_part_of_the_report_and_absent_without_deep_stack():
    r = results.load(FIXTURE)
    assert "deep-stack-rss-after-deep" in [c.name for c in charts.build_charts(r)]
    quick = results.load(REPO_ROOT / "tests" / "fixtures" / "report_real_quick_sweep.json")
    assert stack_charts(quick, charts.series_colors(quick.series)) == []
