# The network workload's charts (issue 11): echo throughput against connections (one line per runtime and
# worker count, log x) and its latency percentiles p50…p99.9 and max per runtime (log y), one panel per
# connection count. Both read the per-repetition counters that results.py keeps for echo.
from __future__ import annotations

from .charts import Chart, _figure, _format_axis, _format_count_axis, _spans_decade
from .results import Results, Series

PERCENTILES = (("p50", "latency_p50_ns"), ("p90", "latency_p90_ns"), ("p99", "latency_p99_ns"),
               ("p99.9", "latency_p999_ns"), ("max", "latency_max_ns"))


def net_charts(results: Results, colors: dict[Series, str]) -> list[Chart]:
    """net_charts: the echo throughput and latency charts, or nothing when no echo case ran ok."""
    cases = [c for c in results.cases_of("echo") if c.ok and c.counter_median("round_trips_per_second")]
    if not cases:
        return []
    return [c for c in (_throughput_chart(results, cases, colors), _latency_chart(results, cases, colors)) if c]


def _lines(cases):
    """_lines groups cases by (series, workers) and sorts each group by connections."""
    lines: dict[tuple, list] = {}
    for case in cases:
        lines.setdefault((case.series, case.workers), []).append(case)
    return {key: sorted(v, key=lambda c: c.params.get("connections", 0)) for key, v in
            sorted(lines.items(), key=lambda kv: (kv[0][0].sort_key, kv[0][1] or 0))}


def _throughput_chart(results: Results, cases, colors) -> Chart | None:
    if len({c.params.get("connections") for c in cases}) < 2:
        return None
    figure, ax = _figure(results, "echo: round trips per second vs connections", (9.5, 5.2))
    styles = {w: s for w, s in zip(sorted({c.workers or 0 for c in cases}), ("-", "--", ":", "-."))}
    for (series, workers), line in _lines(cases).items():
        ax.plot([c.params["connections"] for c in line], [c.counter_median("round_trips_per_second") for c in line],
                color=colors[series], ls=styles.get(workers or 0, "-"), marker="o", lw=1.8,
                label=f"{series.label}, {workers} worker{'s' if workers != 1 else ''}")
    ax.set_xscale("log")
    _format_count_axis(ax.xaxis, True, integer=True)
    ax.set_xlabel("connections, log scale")
    ax.set_ylabel("round trips per second (median) — higher is better")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    caption = ("Echo throughput (round trips per second over all connections, median of the repetitions) "
               "against the number of connections, one line per runtime and worker count; client and server "
               "share the machine's cores over loopback.")
    return Chart("net-echo-throughput", "echo throughput vs connections", caption, figure,
                 sorted({c.series for c in cases}, key=lambda s: s.sort_key))


def _latency_chart(results: Results, cases, colors) -> Chart | None:
    connections = sorted({c.params.get("connections") for c in cases})[-4:]
    workers = max(c.workers or 0 for c in cases)
    figure, axes = _figure(results, f"echo: round-trip latency percentiles ({workers} workers)",
                           (4.2 * len(connections) + 2, 4.8), columns=len(connections))
    axes = axes if len(connections) > 1 else [axes]
    xs = list(range(len(PERCENTILES)))
    values = []
    for ax, conns in zip(axes, connections):
        for (series, w), line in _lines(cases).items():
            case = next((c for c in line if c.params.get("connections") == conns), None)
            if w != workers or case is None:
                continue
            ys = [case.counter_median(name) for _, name in PERCENTILES]
            values += [y for y in ys if y]
            ax.plot(xs, ys, color=colors[series], marker="o", lw=1.8, label=series.label)
        ax.set_xticks(xs, [label for label, _ in PERCENTILES])
        ax.set_title(f"{conns:,} connection{'s' if conns != 1 else ''}", fontsize=9)
    for ax in axes:
        if _spans_decade(values):
            ax.set_yscale("log")
        _format_axis(ax.yaxis, "ns", _spans_decade(values), values)
    axes[0].set_ylabel("latency per round trip (median of repetitions) — lower is better")
    axes[-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    caption = ("Round-trip latency percentiles of echo (log-bucketed histogram, ±1.6 %; each point the median "
               f"over repetitions of that percentile), one line per runtime at {workers} workers, one panel per "
               "connection count.")
    return Chart("net-echo-latency", "echo latency percentiles", caption, figure,
                 sorted({c.series for c in cases}, key=lambda s: s.sort_key))
