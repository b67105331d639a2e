# Trend charts of a history (see history.py): one chart per case, its per-run medians over time, the
# levels between detected change points, and each change point marked and labelled with its shift.
# Entry point for scripts/report --history: write_trend_charts(history, out_dir, formats).
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import changepoint  # noqa: E402
from .history import all_case_ids, case_metric, case_series  # noqa: E402
from .matching import METRIC_UNITS  # noqa: E402


def chart_file_stem(case_id: str) -> str:
    """chart_file_stem: a file name for a case: 'trend-' + case_id with '/' as '__' and ':' as '-'."""
    return "trend-" + re.sub(r"[^A-Za-z0-9_.=-]", "_", case_id.replace("/", "__").replace(":", "-"))


def _run_label(run: dict) -> str:
    revision = str(run.get("git_revision", "?"))[:8]
    return f"{revision}\n{str(run.get('date', ''))[5:10]}"   # revision, MM-DD


def write_trend_charts(history: dict, out_dir: Path, formats: list[str]) -> list[Path]:
    """write_trend_charts: one chart per case of `history` into `out_dir` (created), once per format
    (e.g. ["png", "svg"]); returns the written paths, in case_id order. Change points come from
    changepoint.detect_change_points with its defaults. Cases recorded in fewer than 2 runs get no chart."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = history.get("runs", [])
    written: list[Path] = []
    for case_id in all_case_ids(history):
        indices, values = case_series(history, case_id)
        if len(values) < 2:
            continue
        points = changepoint.detect_change_points(values)
        figure, axes = plt.subplots(figsize=(min(16.0, max(6.0, 0.55 * len(values) + 2.0)), 3.6))
        axes.plot(indices, values, marker="o", markersize=4, linewidth=1.2, color="#1f77b4",
                  label="median per run")
        edges = [0, *(point.index for point in points), len(values)]
        for start, stop in zip(edges, edges[1:]):
            level = sorted(values[start:stop])[(stop - start - 1) // 2]
            axes.hlines(level, indices[start], indices[stop - 1], colors="#7f7f7f", linestyles="-",
                        linewidth=2.5, alpha=0.5)
        for point in points:
            x = (indices[point.index - 1] + indices[point.index]) / 2.0
            colour = "#d62728" if point.relative_shift > 0 else "#2ca02c"   # up is worse for every metric
            axes.axvline(x, color=colour, linestyle="--", linewidth=1.2)
            axes.annotate(f"{point.relative_shift:+.0%}", (x, max(values) * 1.1), xytext=(3, 0),
                          textcoords="offset points", color=colour, fontsize=8, va="top")
        step = max(1, len(indices) // 24)
        axes.set_xticks(indices[::step], [_run_label(runs[i]) for i in indices[::step]], fontsize=7)
        axes.set_ylabel(METRIC_UNITS.get(case_metric(history, case_id), ""))
        axes.set_title(case_id, fontsize=9)
        axes.set_ylim(0, max(values) * 1.12)
        axes.grid(axis="y", alpha=0.3)
        figure.tight_layout()
        for file_format in formats:
            path = out_dir / f"{chart_file_stem(case_id)}.{file_format}"
            figure.savefig(path, format=file_format, dpi=110)
            written.append(path)
        plt.close(figure)
    return written
