# The deep-stack chart: resident memory per parked task after every task made one deep excursion and came
# back to a shallow frame (does a runtime give the deep stack back?), one bar per runtime, plus Go after the
# GCs that shrink its stacks, beside the textbook figures (a thread's 8 MiB stack reserve, a goroutine's
# 2 KiB initial stack: reference bars, not measurements) and the excursion's depth as a dashed line. One
# panel per depth-kib. Reads the per-repetition counters that results.py keeps for deep-stack.
from __future__ import annotations

from .charts import (Chart, _bar_limits, _draw_bars, _figure, _format_axis, _spread_label, _status_text)
from .results import Case, Results, Series
from .units import format_bytes

AFTER_GC = "rss_bytes_per_parked_task_after_gc"
REFERENCES = (("thread stack\nreserve\n(8 MiB)", 8 * 2**20), ("goroutine\ninitial stack\n(2 KiB)", 2 * 2**10))
REFERENCE_COLOR, DEPTH_COLOR = "#eeeeee", "#616161"


def stack_charts(results: Results, colors: dict[Series, str]) -> list[Chart]:
    """stack_charts: the deep-stack chart, or nothing when no deep-stack case ran ok."""
    cases = results.cases_of("deep-stack")
    if not any(c.ok for c in cases):
        return []
    return [_after_deep_chart(results, cases, colors)]


def _headline(cases: list[Case], depth: int) -> dict[Series, Case]:
    """_headline: per series, its case at `depth` with the most tasks, then the most workers; an ok case
    before one that is not."""
    chosen: dict[Series, Case] = {}
    for case in sorted((c for c in cases if c.params.get("depth-kib") == depth),
                       key=lambda c: (c.ok, c.params.get("tasks", 0), c.workers or 0)):
        chosen[case.series] = case
    return dict(sorted(chosen.items(), key=lambda kv: kv[0].sort_key))


def _after_deep_chart(results: Results, cases: list[Case], colors: dict[Series, str]) -> Chart:
    depths = sorted({c.params["depth-kib"] for c in cases if "depth-kib" in c.params})
    width = max(len(_headline(cases, d)) for d in depths) + 1 + len(REFERENCES)
    figure, axes = _figure(results, "deep-stack: RSS per parked task after a deep excursion",
                           (max(7.5, (1.1 * width + 1.5) * len(depths)), 5.4), columns=len(depths))
    axes = axes if len(depths) > 1 else [axes]
    drawn: list[Case] = []
    for ax, depth in zip(axes, depths):
        drawn += _panel(ax, _headline(cases, depth), depth, colors)
    axes[0].set_ylabel("RSS bytes per parked task, log scale — lower is better")
    axes[-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    caption = ("Resident memory each task keeps while parked after one excursion depth-kib deep (RSS growth "
               "over the tasks, median of the repetitions), per runtime; Go also after the garbage collections "
               "that shrink its goroutines' stacks (hatched). Beside them the textbook figures — a thread's 8 MiB "
               "stack reserve and a goroutine's 2 KiB initial stack — which are reference values, not "
               f"measurements, and the excursion's depth (dashed); log scale; {_spread_label(drawn)}.")
    series = sorted({c.series for c in cases}, key=lambda s: s.sort_key)
    return Chart("deep-stack-rss-after-deep", "RSS per parked task after a deep excursion", caption, figure, series)


def _panel(ax, chosen: dict[Series, Case], depth: int, colors: dict[Series, str]) -> list[Case]:
    """_panel draws one depth: the measured bars, Go's after-GC bars, the reference bars, the depth line."""
    shown = list(chosen.items())
    _draw_bars(ax, shown, colors, format_bytes)
    ok = [c for _, c in shown if c is not None and c.ok]
    labels = [s.label for s, _ in shown]
    heights = [v for c in ok for v in (c.minimum, c.maximum)]
    after_gc = [(s, c) for s, c in shown if c is not None and c.ok and c.counter_median(AFTER_GC) is not None]
    for i, (s, case) in enumerate(after_gc):
        x, value = len(shown) + i, max(case.counter_median(AFTER_GC), 1.0)
        ax.bar(x, value, width=0.62, color=colors[s], alpha=0.55, hatch="..", edgecolor="#424242")
        ax.annotate(format_bytes(value), (x, value), xytext=(0, 4), textcoords="offset points", ha="center",
                    va="bottom", fontsize=9, fontweight="bold")
        labels.append(f"{s.label}\nafter GC")
        heights.append(value)
    first_reference = len(labels) + 0.5
    for i, (label, size) in enumerate(REFERENCES):
        x = first_reference + i
        ax.bar(x, size, width=0.62, color=REFERENCE_COLOR, edgecolor="#757575", hatch="//",
               label="textbook reference, not measured" if i == 0 else None)
        ax.annotate(format_bytes(size), (x, size), xytext=(0, 4), textcoords="offset points", ha="center",
                    va="bottom", fontsize=9, color="#424242")
    if not ok:
        _status_text(ax, 0, "nothing ran ok", row=1)
    ticks = list(range(len(labels))) + [first_reference + i for i in range(len(REFERENCES))]
    ax.set_xticks(ticks, labels + [label for label, _ in REFERENCES], fontsize=8)
    depth_bytes = depth * 1024
    ax.axhline(depth_bytes, color=DEPTH_COLOR, ls="--", lw=1.2, label="excursion depth (depth-kib)")
    ax.set_yscale("log")
    sizes = [size for _, size in REFERENCES] + [depth_bytes]
    _bar_limits(ax, heights + sizes, heights + sizes, True)
    _format_axis(ax.yaxis, "bytes", True)
    tasks = sorted({c.params.get("tasks", 0) for c in ok})
    ax.set_title(f"depth-kib = {depth:,}" + (f", {', '.join(f'{t:,}' for t in tasks)} tasks" if tasks else ""),
                 fontsize=9)
    ax.grid(False, axis="x")
    return ok
