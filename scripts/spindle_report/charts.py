# Draws every chart of a report with matplotlib (Agg, no display): per-workload bars, the memory-per-task
# chart beside textbook references, the memory-vs-switch trade-off, sweep scaling, speedup/efficiency and the
# status matrix. Each chart is a Chart (name, title, caption, figure); save() writes it as PNG and/or SVG.
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (after use("Agg"))
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from .results import STATUSES, Case, Results, Series, main_figure_unit, status_severity  # noqa: E402
from .selection import headline, scaling_lines, varying_dimensions  # noqa: E402
from .units import figure_of, format_bytes, format_count, format_figure  # noqa: E402

matplotlib.rcParams.update({
    "svg.fonttype": "none",      # SVG text stays text: searchable, small, and tests can read the labels
    "svg.hashsalt": "spindle",   # stable element ids between runs
    "font.size": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.axisbelow": True,
    "savefig.dpi": 110,
})

# One colour per runtime in every chart of every report, so a reader learns them once.
_RUNTIME_COLORS = {
    ("thread", None): "#d62728", ("pool", None): "#ff7f0e", ("fiber", "pooled"): "#1f77b4",
    ("fiber", "copy"): "#17becf", ("fiber", None): "#1f77b4", ("boost-fiber", None): "#9467bd",
    ("go", None): "#2ca02c",
}
_SPARE_COLORS = ("#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#aec7e8", "#ffbb78", "#98df8a")
STATUS_COLORS = {"ok": "#a5d6a7", "unsupported": "#e0e0e0", "limit": "#ffe082", "failed": "#ef9a9a",
                 "timeout": "#ce93d8", "crashed": "#e57373"}
_UNKNOWN_STATUS_COLOR = "#bdbdbd"
_STATUS_TEXT_COLOR = "#b71c1c"

_FLAG_HATCH = "xx"  # bars whose median is not to be trusted (noise.py): noisy or bimodal repetitions

# Textbook per-task memory, drawn beside the measurements and labelled as reference (DESIGN.md, "The question").
REFERENCE_STACKS = (
    ("thread stack\nreserve\n(Linux default)", 8 * 2**20),
    ("thread stack\n\"about 1 MiB\"\n(often quoted)", 2**20),
    ("goroutine\ninitial stack", 2 * 2**10),
)


@dataclass
class Chart:
    """Chart is one finished figure: `name` is its file stem, `caption` says what it shows."""

    name: str
    title: str
    caption: str
    figure: Figure
    series: list[Series]  # the series drawn or named in it


def save(chart: Chart, directory: Path, formats: list[str]) -> dict[str, Path]:
    """save writes the chart once per format ('png', 'svg') into directory and returns the paths."""
    paths = {}
    for fmt in formats:
        path = directory / f"{chart.name}.{fmt}"
        chart.figure.savefig(path, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
        chart.figure.set_layout_engine("none")  # laid out once; the next format reuses the positions
        paths[fmt] = path
    return paths


def build_charts(results: Results) -> list[Chart]:
    """build_charts draws every chart the results support, in reading order; absent data means no chart."""
    colors = series_colors(results.series)
    charts = [workload_bar_chart(results, w, colors) for w in results.workloads]
    charts += [memory_chart(results, colors), tradeoff_chart(results, colors)]
    for workload in results.workloads:
        dimensions = varying_dimensions(results.cases_of(workload))
        charts += [scaling_chart(results, workload, d, colors) for d in dimensions]
        if "workers" in dimensions:
            charts.append(speedup_chart(results, workload, colors))
    from .net_charts import net_charts  # late: net_charts builds on this module's helpers
    charts += net_charts(results, colors)
    from .stack_charts import stack_charts  # late, as net_charts
    charts += stack_charts(results, colors)
    from .blocking_charts import blocking_charts  # late, as net_charts
    charts += blocking_charts(results, colors)
    charts.append(status_matrix_chart(results))
    return [c for c in charts if c is not None]


def series_colors(series: list[Series]) -> dict[Series, str]:
    spare = iter(_SPARE_COLORS * (1 + len(series) // len(_SPARE_COLORS)))
    return {s: _RUNTIME_COLORS.get((s.runtime, s.stack_policy)) or next(spare) for s in series}


def _figure(results: Results, title: str, size: tuple[float, float], columns: int = 1):
    figure = Figure(figsize=size, layout="constrained")
    figure.suptitle(f"{title}\n{results.machine_label} · {results.date_label}", fontsize=11)
    axes = figure.subplots(1, columns)
    return figure, axes


def _series_of(results: Results, cases: list[Case]) -> list[Series]:
    present = {c.series for c in cases}
    return [s for s in results.series if s in present]


def _spans_decade(values: list[float]) -> bool:
    values = [v for v in values if v and v > 0]
    return bool(values) and max(values) / min(values) > 10


def _spread_label(cases: list[Case]) -> str:
    counts = {len(c.values) for c in cases if c is not None and c.ok}
    if not counts:
        return "no case ran ok: nothing measured"
    most = max(counts)
    if most <= 1:
        return "1 repetition: no error bars"
    over = f"{most}" if len(counts) == 1 else f"up to {most}"
    return f"error bars: min–max over {over} repetitions"


def _spread_handle() -> Line2D:
    return Line2D([], [], color="black", marker="|", markersize=12, linestyle="none")


def _error(case: Case) -> list[list[float]]:
    return [[case.median - case.minimum], [case.maximum - case.median]]


def _format_axis(axis, unit: str, log: bool, values: list[float] = ()) -> None:
    """_format_axis labels a main-figure axis in ns/µs/ms or B/KiB/MiB. Log byte axes tick at powers of 4
    (of 2 when `values` span under 64×); log time axes spanning under three decades (of `values`) tick at 1, 2 and 5 times powers of ten."""
    if log and unit == "bytes":
        axis.set_major_locator(LogLocator(base=2 if values and max(values) / min(values) < 64 else 4))
        axis.set_minor_locator(NullLocator())
    elif log and values and max(values) / min(values) < 30:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_figure(unit, v) if v > 0 else "0"))
    if log:
        axis.set_minor_formatter(NullFormatter())


def _format_count_axis(axis, log: bool, integer: bool) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_count(v)))
    if log:
        axis.set_minor_formatter(NullFormatter())
    elif integer:
        axis.set_major_locator(MaxNLocator(integer=True))


def _not_shown(case: Case | None) -> str:
    """_not_shown is what a bar's place says when the case has no figure to draw."""
    if case is None:
        return "not run"
    return case.status if case.status != "ok" else "no value"


def _status_text(ax, x: float, status: str, row: int = 0) -> None:
    """_status_text writes a non-ok status at data x, near the bottom of the axes (row stacks them)."""
    ax.text(x, 0.03 + 0.07 * row, status, transform=blended_transform_factory(ax.transData, ax.transAxes),
            ha="center", va="bottom", color=_STATUS_TEXT_COLOR, fontsize=9, fontweight="bold",
            rotation=90 if row == 0 and len(status) > 3 else 0)


def _bar_limits(ax, tops: list[float], bottoms: list[float], log: bool) -> None:
    if not tops:
        ax.set_yticks([])
        return
    if log:
        ax.set_ylim(min(bottoms) / 3, max(tops) * 4)
    else:
        ax.set_ylim(0, max(tops) * 1.2)


def workload_bar_chart(results: Results, workload: str, colors: dict[Series, str]) -> Chart:
    """workload_bar_chart: the workload's main figure per series at its headline configuration, median bars
    with min–max error bars and value labels; a series that did not run ok shows its status instead."""
    cases = results.cases_of(workload)
    series = _series_of(results, cases)
    head = headline(cases, series)
    main = figure_of(workload)
    unit = main.unit
    figure, ax = _figure(results, f"{workload}: {main.label} by runtime",
                         (max(6.0, 1.25 * len(series) + 2.5), 4.8))
    shown = list(head.cases.items())
    ok = [c for _, c in shown if c is not None and c.ok]
    log = _spans_decade([c.median for c in ok])
    workers = {c.workers for c in ok}
    _draw_bars(ax, shown, colors, lambda v: format_figure(unit, v))
    labels = [s.label if c is None or len(workers) <= 1 else f"{s.label}\nworkers={c.workers}" for s, c in shown]
    ax.set_xticks(range(len(shown)), labels)
    ax.set_xlim(-0.6, len(shown) - 0.4)
    if log:
        ax.set_yscale("log")
    _bar_limits(ax, [c.maximum for c in ok], [c.minimum for c in ok], log)
    _format_axis(ax.yaxis, unit, log, [c.minimum for c in ok] + [c.maximum for c in ok])
    ax.set_ylabel(f"{main.label} (median)" + (", log scale" if log else "") + f" — {main.better}")
    ax.set_title(head.describe(), fontsize=9)
    ax.grid(False, axis="x")
    if ok:
        handles, labels = _noise_legend(ok)
        ax.legend([_spread_handle()] + handles, [_spread_label(ok)] + labels, loc="upper left", fontsize=8)
    else:
        ax.text(0.5, 0.6, "no runtime ran this workload ok\n(reasons: status matrix, cases not ok)",
                transform=ax.transAxes, ha="center", va="center", color="#616161")
    caption = (f"Median {main.label} of {workload} for each runtime at "
               f"{head.describe() or 'its only configuration'}; {main.better}; {_spread_label(ok)}"
               f"{_noise_caption(ok)}.")
    return Chart(f"bars-{workload}", f"{workload} by runtime", caption, figure, series)


def _draw_bars(ax, shown, colors: dict[Series, str], label) -> None:
    """_draw_bars: one bar per (series, case) at x = 0, 1, ...: the median with min-max error bars and its
    value written above (label(value)); a case that is missing or not ok shows its status instead."""
    for x, (s, case) in enumerate(shown):
        if case is None or not case.ok:
            _status_text(ax, x, _not_shown(case))
            continue
        noise = case.noise
        ax.bar(x, case.median, width=0.62, color=colors[s], hatch=_FLAG_HATCH if noise.flagged else None,
               edgecolor="#424242" if noise.flagged else None)
        if len(case.values) > 1:
            ax.errorbar(x, case.median, yerr=_error(case), fmt="none", ecolor="black", capsize=5, lw=1.2)
        ax.annotate(label(case.median), (x, case.maximum), xytext=(0, 4), textcoords="offset points",
                    ha="center", va="bottom", fontsize=9, fontweight="bold")
        if noise.flagged:
            ax.annotate(_noise_words(noise), (x, case.maximum), xytext=(0, 17), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8, color=_STATUS_TEXT_COLOR)


def _noise_words(noise) -> str:
    """_noise_words: what a flagged bar says above its value: 'cv 23%', 'bimodal' or both."""
    return " · ".join(([f"cv {noise.cv * 100:.0f}%"] if noise.noisy else []) + (["bimodal"] if noise.bimodal else []))


def _noise_legend(cases: list[Case]) -> tuple[list, list[str]]:
    """_noise_legend: a hatched legend entry when some bar's median is not to be trusted."""
    if not any(c.noise.flagged for c in cases):
        return [], []
    return [Patch(facecolor="white", edgecolor="#424242", hatch=_FLAG_HATCH)], ["noisy (cv > 10%) or bimodal"]


def _noise_caption(cases: list[Case]) -> str:
    flagged = [c for c in cases if c.noise.flagged]
    if not flagged:
        return ""
    return (f"; hatched bars ({len(flagged)}) have noisy (cv > 10%) or bimodal repetitions, so their median "
            "is not to be trusted")


def memory_chart(results: Results, colors: dict[Series, str]) -> Chart | None:
    """memory_chart: measured RSS per parked task per series beside the textbook stack sizes, log scale."""
    cases = results.cases_of("memory-per-task")
    if not cases:
        return None
    series = _series_of(results, cases)
    head = headline(cases, series)
    shown = list(head.cases.items())
    figure, ax = _figure(results, "Memory per parked task: measured vs textbook",
                         (max(7.5, 1.2 * (len(shown) + len(REFERENCE_STACKS)) + 2), 5.2))
    ok = [c for _, c in shown if c is not None and c.ok]
    _draw_bars(ax, shown, colors, format_bytes)
    first_reference = len(shown) + 0.5
    for i, (label, size) in enumerate(REFERENCE_STACKS):
        x = first_reference + i
        ax.bar(x, size, width=0.62, color="#eeeeee", edgecolor="#757575", hatch="//")
        ax.annotate(format_bytes(size), (x, size), xytext=(0, 4), textcoords="offset points", ha="center",
                    va="bottom", fontsize=9, color="#424242")
    ax.axvline(len(shown) - 0.25, color="#9e9e9e", lw=1, ls=":")
    ticks = list(range(len(shown))) + [first_reference + i for i in range(len(REFERENCE_STACKS))]
    ax.set_xticks(ticks, [s.label for s, _ in shown] + [label for label, _ in REFERENCE_STACKS], fontsize=9)
    ax.set_yscale("log")
    _bar_limits(ax, [c.maximum for c in ok] + [s for _, s in REFERENCE_STACKS],
                [c.minimum for c in ok] + [s for _, s in REFERENCE_STACKS], True)
    _format_axis(ax.yaxis, "bytes", True)
    ax.set_ylabel("bytes per task, log scale — lower is better")
    ax.set_title(f"measured: RSS growth per parked task, {head.describe()}", fontsize=9)
    ax.grid(False, axis="x")
    handles = [Patch(facecolor=colors[series[0]], label="measured (median; colour = runtime)"),
               Patch(facecolor="#eeeeee", edgecolor="#757575", hatch="//", label="textbook reference, not measured"),
               _spread_handle()]
    ax.legend(handles, [h.get_label() for h in handles[:2]] + [_spread_label(ok)], loc="upper right", fontsize=8)
    caption = ("Resident memory each parked task costs, measured by memory-per-task at "
               f"{head.describe()}, beside the textbook figures (thread stack reserve 8 MiB, the often quoted "
               f"\"about 1 MiB\", a goroutine's initial 2 KiB stack), which are reference values, not "
               f"measurements; log scale; {_spread_label(ok)}.")
    return Chart("memory-per-task-vs-reference", "Memory per task vs textbook", caption, figure, series)


def tradeoff_chart(results: Results, colors: dict[Series, str]) -> Chart | None:
    """tradeoff_chart: one point per series run ok by both context-switch-storm and memory-per-task,
    x = ns per switch, y = RSS bytes per task, log–log; None when no series has both."""
    switch_cases, memory_cases = results.cases_of("context-switch-storm"), results.cases_of("memory-per-task")
    if not switch_cases or not memory_cases:
        return None
    switch_head = headline(switch_cases, _series_of(results, switch_cases))
    memory_head = headline(memory_cases, _series_of(results, memory_cases))
    points = [(s, switch_head.cases[s], memory_head.cases.get(s)) for s in switch_head.cases]
    points = [(s, a, b) for s, a, b in points if a is not None and b is not None and a.ok and b.ok]
    if not points:
        return None
    figure, ax = _figure(results, "Trade-off: memory per task vs cost of a switch", (7.5, 5.6))
    for s, switch, memory in points:
        ax.errorbar(switch.median, memory.median, color=colors[s], marker="o", markersize=9, capsize=4,
                    xerr=_error(switch) if len(switch.values) > 1 else None,
                    yerr=_error(memory) if len(memory.values) > 1 else None, label=s.label)
        ax.annotate(s.label, (switch.median, memory.median), xytext=(7, 7), textcoords="offset points",
                    fontsize=9, color=colors[s], fontweight="bold")
    ax.set_xscale("log")
    ax.set_yscale("log")
    xs = [p[1].median for p in points]
    ys = [p[2].median for p in points]
    ax.set_xlim(min(xs) / 4, max(xs) * 4)
    ax.set_ylim(min(ys) / 4, max(ys) * 4)
    _format_axis(ax.xaxis, "ns", True, [min(xs) / 4, max(xs) * 4])
    _format_axis(ax.yaxis, "bytes", True)
    ax.set_xlabel("ns per switch (context-switch-storm, median), log scale")
    ax.set_ylabel("RSS bytes per parked task (memory-per-task, median), log scale")
    ax.set_title(f"lower left is better · switch: {switch_head.describe()} · memory: {memory_head.describe()}",
                 fontsize=8)
    spread = _spread_label([p[1] for p in points] + [p[2] for p in points])
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles + [_spread_handle()], labels + [spread], fontsize=8, loc="best")
    caption = ("Each runtime as one point: what a context switch costs (context-switch-storm, x) against what "
               f"a parked task keeps resident (memory-per-task, y), log–log; lower left is better; {spread}.")
    return Chart("tradeoff-memory-vs-switch", "Memory per task vs ns per switch", caption, figure,
                 [p[0] for p in points])


def scaling_chart(results: Results, workload: str, dimension: str, colors: dict[Series, str]) -> Chart | None:
    """scaling_chart: the main figure against one swept dimension, one line per series, the other
    dimensions fixed; log axes where a range spans more than a decade; None with fewer than two ok points."""
    cases = results.cases_of(workload)
    series = _series_of(results, cases)
    lines = scaling_lines(cases, series, dimension)
    if not any(len({c.dimension(dimension) for c in line.cases if c.ok}) >= 2 for line in lines):
        return None
    main = figure_of(workload)
    unit = main.unit
    figure, ax = _figure(results, f"{workload}: {main.label} vs {dimension}",
                         (9.5, 5.2))
    uniform = len({line.describe_fixed() for line in lines}) == 1
    all_ok = [c for line in lines for c in line.cases if c.ok]
    log_x = _spans_decade([c.dimension(dimension) for line in lines for c in line.cases])
    log_y = _spans_decade([c.median for c in all_ok])
    for row, line in enumerate(lines):
        label = line.series.label if uniform else f"{line.series.label} ({line.describe_fixed()})"
        ok = [c for c in line.cases if c.ok]
        if ok:
            ax.errorbar([c.dimension(dimension) for c in ok], [c.median for c in ok], color=colors[line.series],
                        yerr=[[c.median - c.minimum for c in ok], [c.maximum - c.median for c in ok]],
                        marker="o", capsize=3, lw=1.8, label=label)
            for case in ok:
                if case.noise.flagged:  # ringed and labelled: a median not to be trusted
                    x = case.dimension(dimension)
                    ax.plot(x, case.median, marker="o", ms=14, mfc="none", mec=_STATUS_TEXT_COLOR, mew=1.5, ls="none")
                    ax.annotate(_noise_words(case.noise), (x, case.median), xytext=(8, -12),
                                textcoords="offset points", fontsize=8, color=_STATUS_TEXT_COLOR)
        else:
            ax.plot([], [], color=colors[line.series], marker="x", ls="none", label=f"{label}: no ok case")
        for case in line.cases:
            if not case.ok:
                x = case.dimension(dimension)
                ax.plot(x, 0.015, marker="x", ms=8, mew=2, color=colors[line.series], clip_on=False,
                        transform=blended_transform_factory(ax.transData, ax.transAxes))
                at_right = x == max(c.dimension(dimension) for other in lines for c in other.cases)
                ax.annotate(case.status, (x, 0.015), xycoords=blended_transform_factory(ax.transData, ax.transAxes),
                            xytext=(-5 if at_right else 5, 4 + 11 * row), textcoords="offset points", fontsize=8,
                            ha="right" if at_right else "left", color=colors[line.series], fontweight="bold")
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    _format_count_axis(ax.xaxis, log_x, integer=True)
    _format_axis(ax.yaxis, unit, log_y, [c.minimum for c in all_ok] + [c.maximum for c in all_ok])
    if not log_x:
        values = sorted({c.dimension(dimension) for line in lines for c in line.cases})
        if len(values) <= 12:
            ax.set_xticks(values)
    ax.set_xlabel(dimension + (", log scale" if log_x else ""))
    ax.set_ylabel(f"{main.label} (median)" + (", log scale" if log_y else "") + f" — {main.better}")
    fixed = lines[0].describe_fixed() if uniform else "others fixed per line"
    ax.set_title(f"x = {dimension}; {fixed}" + ("; ✕ = case not ok" if len(all_ok) < sum(len(l.cases) for l in lines)
                                                 else ""), fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles + [_spread_handle()], labels + [_spread_label(all_ok)], fontsize=8, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
    caption = (f"How {workload}'s {main.label} changes with {dimension}, one "
               f"line per runtime ({fixed}); {'log–log' if log_x and log_y else 'log x' if log_x else 'log y' if log_y else 'linear axes'}; "
               f"{_spread_label(all_ok)}; crosses on the x axis mark cases that did not run ok"
               + (f"; ringed points have noisy (cv > 10%) or bimodal repetitions"
                  if any(c.noise.flagged for c in all_ok) else "") + ".")
    return Chart(f"scaling-{workload}-{dimension}", f"{workload} vs {dimension}", caption, figure,
                 [line.series for line in lines])


def speedup_chart(results: Results, workload: str, colors: dict[Series, str]) -> Chart | None:
    """speedup_chart: speedup (median ns per op at the fewest workers ÷ at w) and parallel efficiency
    (speedup ÷ worker ratio) against workers, per series with at least two ok worker counts."""
    if main_figure_unit(workload) != "ns":
        return None
    cases = results.cases_of(workload)
    lines = scaling_lines(cases, _series_of(results, cases), "workers")
    usable = [(line, [c for c in line.cases if c.ok]) for line in lines]
    usable = [(line, ok) for line, ok in usable if len(ok) >= 2]
    if not usable:
        return None
    figure, (speed_ax, efficiency_ax) = _figure(results, f"{workload}: speedup and efficiency vs workers",
                                                (11.5, 4.8), columns=2)
    workers = sorted({c.workers for _, ok in usable for c in ok})
    for line, ok in usable:
        base = ok[0]
        ws = [c.workers for c in ok]
        speedup = [base.median / c.median for c in ok]
        efficiency = [sp * base.workers / c.workers for sp, c in zip(speedup, ok)]
        label = f"{line.series.label} (vs {base.workers} worker{'s' if base.workers != 1 else ''})"
        speed_ax.plot(ws, speedup, marker="o", color=colors[line.series], lw=1.8, label=label)
        efficiency_ax.plot(ws, efficiency, marker="o", color=colors[line.series], lw=1.8, label=label)
        for w, value in zip(ws, speedup):
            speed_ax.annotate(f"{value:.2f}×", (w, value), xytext=(4, 4), textcoords="offset points", fontsize=8)
    low = min(line_ok[0].workers for _, line_ok in usable)
    speed_ax.plot([low, workers[-1]], [1, workers[-1] / low], ls="--", color="#9e9e9e", label="ideal (linear)")
    efficiency_ax.axhline(1.0, ls="--", color="#9e9e9e", label="ideal")
    for ax in (speed_ax, efficiency_ax):
        ax.set_xlabel("workers")
        ax.set_xticks(workers)
        ax.legend(fontsize=8, loc="best")
    speed_ax.set_ylabel("speedup (higher is better)")
    efficiency_ax.set_ylabel("parallel efficiency = speedup ÷ worker ratio")
    efficiency_ax.set_ylim(0, max(1.2, efficiency_ax.get_ylim()[1]))
    fixed = usable[0][0].describe_fixed()
    speed_ax.set_title(f"from median ns per op; {fixed}", fontsize=9)
    efficiency_ax.set_title("1.0 = every added worker fully used", fontsize=9)
    caption = (f"Speedup of {workload} as workers grow (median ns per op at the fewest workers divided by the "
               f"median at w; {fixed}) and parallel efficiency (speedup divided by the worker ratio); the "
               "dashed line is ideal linear scaling.")
    return Chart(f"speedup-{workload}", f"{workload} speedup and efficiency", caption, figure,
                 [line.series for line, _ in usable])


def status_matrix_chart(results: Results) -> Chart:
    """status_matrix_chart: runtime × workload grid, each cell counting its cases per status and coloured
    by the worst of them."""
    series, workloads, counts = results.series, results.workloads, results.status_counts()
    figure, ax = _figure(results, "Status matrix: runtime × workload",
                         (max(6.5, 1.9 * len(workloads) + 2.5), max(3.2, 0.62 * len(series) + 2.3)))
    for row, s in enumerate(series):
        for col, workload in enumerate(workloads):
            counter = counts.get((s, workload))
            if not counter:
                color, text = "#fafafa", "not run"
            else:
                ordered = sorted(counter, key=status_severity)
                color = STATUS_COLORS.get(ordered[-1], _UNKNOWN_STATUS_COLOR)
                text = (ordered[0] + (f" ×{counter[ordered[0]]}" if counter[ordered[0]] > 1 else "")
                        if len(ordered) == 1 else "\n".join(f"{counter[st]} {st}" for st in ordered))
            ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, facecolor=color, edgecolor="white", lw=2))
            ax.text(col, row, text, ha="center", va="center", fontsize=8 if "\n" in text else 9,
                    color="#9e9e9e" if not counter else "#212121")
    ax.set_xlim(-0.5, len(workloads) - 0.5)
    ax.set_ylim(len(series) - 0.5, -0.5)
    ax.set_xticks(range(len(workloads)), workloads)
    ax.set_yticks(range(len(series)), [s.label for s in series])
    ax.grid(False)
    ax.tick_params(length=0)
    present = sorted({st for c in counts.values() for st in c}, key=status_severity)
    handles = [Patch(facecolor=STATUS_COLORS.get(st, _UNKNOWN_STATUS_COLOR), label=st) for st in present]
    figure.legend(handles=handles, loc="outside lower center", ncols=max(1, len(handles)), fontsize=8)
    ax.set_title("cases per status; colour = worst status in the cell", fontsize=9)
    caption = ("Which runtime ran which workload: each cell counts its cases per status (" + ", ".join(STATUSES)
               + ") and is coloured by the worst one.")
    return Chart("status-matrix", "Status matrix", caption, figure, series)
