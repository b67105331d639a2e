# The charts of the two "a task that will not let go" workloads: hog-latency's ticker lateness p50, p99 and max
# per runtime (grouped bars, log y: a cooperative runtime's max sits near hog-ms, a preemptive one's in µs),
# and blocking-syscall's steps per second of the stepping tasks beside their p99 gap between two steps.
# Both read the per-repetition counters results.py keeps (BLOCKING_COUNTERS); each bar is the median over
# the repetitions. One case per runtime and stack policy: the one at the most workers (the sweep's main case).
from __future__ import annotations

from .charts import Chart, _figure, _format_axis, _format_count_axis, _spans_decade
from .results import Results, Series

LATENESS = (("p50", "lateness_p50_ns"), ("p99", "lateness_p99_ns"), ("max", "lateness_max_ns"))


def blocking_charts(results: Results, colors: dict[Series, str]) -> list[Chart]:
    """blocking_charts: the hog-latency and blocking-syscall charts, each only when its workload ran ok."""
    return [c for c in (_lateness_chart(results, colors), _steps_chart(results, colors)) if c]


def _one_case_per_series(results: Results, workload: str, counter: str) -> dict:
    """_one_case_per_series: per series, its ok case with `counter` at the most workers, in series order."""
    chosen = {}
    for case in results.cases_of(workload):
        if not case.ok or case.counter_median(counter) is None:
            continue
        best = chosen.get(case.series)
        if best is None or (case.workers or 0) > (best.workers or 0):
            chosen[case.series] = case
    return dict(sorted(chosen.items(), key=lambda kv: kv[0].sort_key))


def _workers_text(cases) -> str:
    workers = sorted({c.workers for c in cases if c.workers})
    return ", ".join(map(str, workers)) + (" worker" if workers == [1] else " workers") if workers else ""


def _lateness_chart(results: Results, colors) -> Chart | None:
    cases = _one_case_per_series(results, "hog-latency", "lateness_max_ns")
    if not cases:
        return None
    hog_ms = sorted({c.params.get("hog-ms") for c in cases.values() if c.params.get("hog-ms")})
    figure, ax = _figure(results, f"hog-latency: 1 ms ticker lateness beside CPU hogs ({_workers_text(cases.values())})",
                         (max(6.0, 1.6 * len(cases) + 3), 5.0))
    width = 0.8 / len(LATENESS)
    values = []
    for k, (label, counter) in enumerate(LATENESS):
        xs = [i + (k - (len(LATENESS) - 1) / 2) * width for i in range(len(cases))]
        ys = [cases[s].counter_median(counter) or 0 for s in cases]
        values += [y for y in ys if y > 0]
        bars = ax.bar(xs, [max(y, 1) for y in ys], width * 0.95, color=[colors[s] for s in cases],
                      alpha=(0.45, 0.75, 1.0)[k], edgecolor="black", linewidth=0.5)
        ax.bar_label(bars, labels=[label] * len(ys), fontsize=7, padding=2)
    ax.set_xticks(range(len(cases)), [s.label for s in cases])
    log = _spans_decade(values)
    if log:
        ax.set_yscale("log")
    _format_axis(ax.yaxis, "ns", log, values)
    for ms in hog_ms:
        ax.axhline(ms * 1e6, color="grey", ls="--", lw=1)
        ax.annotate(f"hog-ms = {ms} ms", (-0.5, ms * 1e6), fontsize=8, ha="left", va="bottom", color="grey")
    ax.set_ylabel("lateness of a 1 ms sleep — lower is better")
    caption = ("How late a task sleeping 1 ms in a loop wakes up while CPU hogs that never yield hold the workers "
               "(hog-latency): p50, p99 and max of the ticker's lateness per runtime (log-bucketed histogram, "
               "±1.6 %; each bar the median over repetitions; nothing clipped). A runtime that cannot preempt "
               "a task shows a max near hog-ms (dashed line); the kernel and Go's asynchronous preemption do not.")
    return Chart("blocking-hog-lateness", "hog-latency: ticker lateness", caption, figure, list(cases))


def _steps_chart(results: Results, colors) -> Chart | None:
    cases = _one_case_per_series(results, "blocking-syscall", "steps_per_second")
    if not cases:
        return None
    figure, (left, right) = _figure(
        results, f"blocking-syscall: the other tasks' progress beside blocking read() calls ({_workers_text(cases.values())})",
        (max(8.0, 2.2 * len(cases) + 4), 5.4), columns=2)
    xs = list(range(len(cases)))
    bar_colors = [colors[s] for s in cases]
    steps = [cases[s].counter_median("steps_per_second") for s in cases]
    left.bar(xs, steps, 0.7, color=bar_colors, edgecolor="black", linewidth=0.5)
    left.bar_label(left.containers[0], labels=[f"{v:,.0f}" for v in steps], fontsize=7, padding=2)
    _format_count_axis(left.yaxis, False, integer=False)
    left.set_ylabel("steps/s of the stepping tasks — higher is better")
    gaps = [cases[s].counter_median("step_gap_p99_ns") or 0 for s in cases]
    right.bar(xs, [max(g, 1) for g in gaps], 0.7, color=bar_colors, edgecolor="black", linewidth=0.5)
    log = _spans_decade(gaps)
    if log:
        right.set_yscale("log")
    _format_axis(right.yaxis, "ns", log, [g for g in gaps if g > 0])
    right.set_ylabel("p99 gap between two steps — lower is better")
    for ax in (left, right):
        ax.set_xticks(xs, [s.label for s in cases], rotation=20, ha="right")
    caption = ("blocking-syscall: some tasks sit in plain read() calls on pipes (the runtime does not know they "
               "block) while the others step (CPU work + a channel hand-off). Left: steps per second of the "
               "stepping tasks; right: the p99 time between two consecutive steps of one task. Medians over "
               "repetitions; a runtime whose worker is stuck in the kernel with tasks queued behind it shows "
               "fewer steps and longer gaps.")
    return Chart("blocking-syscall-steps", "blocking-syscall: steps and gaps", caption, figure, list(cases))
