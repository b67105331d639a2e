# Each workload's main figure (which counter, in which unit, better low or high) and how its numbers read:
# nanoseconds as ns/µs/ms/s, byte counts as B/KiB/MiB/GiB, rates as k/s and M/s, to three significant
# digits. The one place charts, report.html and summary.md get their number text from.
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """Figure is a workload's main figure: the record's counter, its unit ('ns', 'bytes', 'per_s'), the
    words for it ('ns per op'), and which way is better."""

    counter: str
    unit: str
    label: str
    lower_is_better: bool = True

    @property
    def better(self) -> str:
        return "lower is better" if self.lower_is_better else "higher is better"


# The report's copy of the harness's table (each workload header's `main_figure`, workloads/workload.h);
# a workload missing here is read in ns per op, as the harness reads one that declares nothing.
DEFAULT_FIGURE = Figure("ns_per_op", "ns", "ns per op")
FIGURES = {
    "memory-per-task": Figure("rss_bytes_per_task", "bytes", "RSS bytes per task"),
    "deep-stack": Figure("rss_bytes_per_parked_task_after_deep", "bytes", "RSS bytes per parked task after a deep excursion"),
    "idle-connections": Figure("rss_bytes_per_connection", "bytes", "RSS bytes per connection"),
    "echo": Figure("round_trips_per_second", "per_s", "round trips per second", lower_is_better=False),
    "blocking-syscall": Figure("steps_per_second", "per_s", "steps per second of the non-blocking tasks",
                               lower_is_better=False),
    "hog-latency": Figure("lateness_p99_ns", "ns", "ticker lateness p99"),
}


_DECLARED: dict[str, Figure] = {}  # workloads missing above, as their records declare them


def declare_figure(workload: str, counter: str, unit_text: str) -> None:
    """declare_figure learns a workload's figure from its records' `main_figure` and `main_figure_unit`
    (the harness writes the workload's own declaration there: 'bytes/task', 'steps/s', 'ns/op')."""
    if workload in FIGURES or not counter or not unit_text:
        return
    kind = "bytes" if unit_text.startswith(("bytes", "B/")) else "per_s" if unit_text.endswith("/s") else "ns"
    label = unit_text[:-2] + " per second" if kind == "per_s" else unit_text.replace("/", " per ")
    _DECLARED[workload] = Figure(counter, kind, label, lower_is_better=kind != "per_s")


def figure_of(workload: str) -> Figure:
    """figure_of is the main figure a workload is judged by: the table above, else what its records
    declared, else ns per op."""
    return FIGURES.get(workload) or _DECLARED.get(workload, DEFAULT_FIGURE)


def _three_digits(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def format_ns(value: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if value >= scale:
            return f"{_three_digits(value / scale)} {unit}"
    return f"{_three_digits(value)} ns"


def format_bytes(value: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= scale:
            return f"{_three_digits(value / scale)} {unit}"
    return f"{_three_digits(value)} B"


def format_rate(value: float) -> str:
    for unit, scale in (("G/s", 1e9), ("M/s", 1e6), ("k/s", 1e3)):
        if value >= scale:
            return f"{_three_digits(value / scale)} {unit}"
    return f"{_three_digits(value)} /s"


def format_figure(unit: str, value: float | None) -> str:
    """format_figure formats a value of unit 'ns', 'bytes' or 'per_s'; None reads as an em dash."""
    if value is None:
        return "—"
    return {"bytes": format_bytes, "per_s": format_rate}.get(unit, format_ns)(value)


def format_cv(cv: float | None) -> str:
    """format_cv writes a coefficient of variation as a percentage; None (one repetition) as an em dash."""
    return "—" if cv is None else f"{cv * 100:.1f}%"


def format_count(value: float) -> str:
    """format_count writes a parameter value compactly: 1000000 -> 1M, 1500 -> 1.5k."""
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale and (value / scale) == round(value / scale, 1):
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"
