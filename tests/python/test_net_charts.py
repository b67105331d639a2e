# The echo charts of scripts/report (spindle_report/net_charts.py) on a real small net sweep
# (tests/fixtures/report_net_echo_small.json: echo at 1, 10 and 100 connections on thread, fiber and go):
# the throughput chart draws each runtime's median round trips per second at each connection count, and the
# latency chart one panel per connection count with the median percentiles, in order.
from __future__ import annotations

import json
import statistics

import pytest

from conftest import REPO_ROOT
from spindle_report import charts, results
from spindle_report.net_charts import PERCENTILES, net_charts

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "report_net_echo_small.json"


@pytest.fixture(scope="module")
def loaded():
    r = results.load(FIXTURE)
    return r, net_charts(r, charts.series_colors(r.series))


def raw_medians(counter: str) -> dict[tuple[str, int], float]:
    per_case: dict[tuple[str, int], list[float]] = {}
    for rec in json.loads(FIXTURE.read_text())["benchmarks"]:
        if rec["workload"] == "echo" and rec.get("run_type") != "aggregate" and rec["status"] == "ok":
            per_case.setdefault((rec["runtime"], rec["params"]["connections"]), []).append(rec[counter])
    return {k: statistics.median(v) for k, v in per_case.items()}


def test_both_echo_charts_are_drawn(loaded):
    _, drawn = loaded
    assert [c.name for c in drawn] == ["net-echo-throughput", "net-echo-latency"]


def test_throughput_lines_are_the_median_round_trips_per_second(loaded):
    _, drawn = loaded
    ax = drawn[0].figure.axes[0]
    want = raw_medians("round_trips_per_second")
    lines = {line.get_label().split(" (")[0].split(",")[0]: line for line in ax.get_lines()}
    assert set(lines) == {"thread", "fiber", "go"}
    for runtime, line in lines.items():
        for x, y in zip(line.get_xdata(), line.get_ydata()):
            assert y == pytest.approx(want[(runtime, int(x))])
    assert ax.get_xscale() == "log"


def test_latency_panels_show_ordered_percentiles_per_connection_count(loaded):
    _, drawn = loaded
    axes = drawn[1].figure.axes
    assert [ax.get_title() for ax in axes] == ["1 connection", "10 connections", "100 connections"]
    p99 = raw_medians("latency_p99_ns")
    for ax, conns in zip(axes, (1, 10, 100)):
        for line in ax.get_lines():
            runtime = line.get_label().split(" (")[0]
            ys = list(line.get_ydata())
            assert len(ys) == len(PERCENTILES)
            assert ys[2] == pytest.approx(p99[(runtime, conns)])


def test_no_echo_means_no_net_chart():
    r = results.load(REPO_ROOT / "tests" / "fixtures" / "report_real_quick_sweep.json")
    assert net_charts(r, charts.series_colors(r.series)) == []
