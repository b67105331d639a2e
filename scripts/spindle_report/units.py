# Formats the main figures for people: nanoseconds as ns/µs/ms/s and byte counts as B/KiB/MiB/GiB, to
# three significant digits. The one place charts, report.html and summary.md get their number text from.
from __future__ import annotations


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


def format_figure(unit: str, value: float | None) -> str:
    """format_figure formats a value of unit 'ns' or 'bytes'; None reads as an em dash."""
    if value is None:
        return "—"
    return format_bytes(value) if unit == "bytes" else format_ns(value)


def format_count(value: float) -> str:
    """format_count writes a parameter value compactly: 1000000 -> 1M, 1500 -> 1.5k."""
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale and (value / scale) == round(value / scale, 1):
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"
