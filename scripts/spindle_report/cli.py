# The `scripts/report RESULTS.json [-o DIR] [--format png,svg]` command: validates the input (exit 2 with
# one line on stderr when it is not Spindle JSON), then writes every chart, report.html and summary.md into
# DIR and prints the path of report.html last.
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .results import ResultsError, load

FORMATS = ("png", "svg")


def default_output_directory(results_path: Path) -> Path:
    """default_output_directory is `<results stem>-report/` beside the results file."""
    return results_path.with_name(results_path.stem + "-report")


def _formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"formats must be a comma list of {', '.join(FORMATS)}, got {text!r}")
    return list(dict.fromkeys(formats))


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="report", description="Charts, a self-contained report.html and "
                                     "summary.md from one Spindle results JSON.")
    parser.add_argument("results", type=Path, help="Spindle results JSON (spindle run/sweep --out)")
    parser.add_argument("-o", "--output", type=Path, help="output directory (default: <results>-report/)")
    parser.add_argument("--format", type=_formats, default=list(FORMATS),
                        help="chart files to write: png, svg or png,svg (default png,svg)")
    parser.add_argument("--history", metavar="FILE|DB",
                        help="a history file (scripts/history add) or the results database (an SQLite file or a "
                             "postgresql:// URL, scripts/db): one trend chart per series, change points marked")
    parser.add_argument("--machine", help="with a database: only this machine's series (name or fingerprint prefix)")
    return parser.parse_args(argv)


def _load_history(source: str, machine: str | None) -> dict:
    """_load_history: a history file, or the history of the results database when `source` is one."""
    from spindle_compare.history import load_history
    from spindle_db.store import Database, looks_like_database

    if not looks_like_database(source):
        return load_history(Path(source))
    from spindle_db.query import history_document

    with Database(source) as db:
        return history_document(db, machine)


def _trend_charts(history_source: str, output: Path, formats: list[str], machine: str | None = None) -> list:
    """_trend_charts draws the history's trend charts (spindle_compare.trend) and returns them embedded."""
    from spindle_compare.trend import write_trend_charts

    from . import html_report

    paths = write_trend_charts(_load_history(history_source, machine), output, formats)
    fmt = "png" if "png" in formats else "svg"
    return [html_report.EmbeddedChart(p.stem, f"Trend: {p.stem.removeprefix('trend-')}",
                                      "median per run in the history; change points marked", fmt, p.read_bytes())
            for p in paths if p.suffix == "." + fmt]


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        results = load(arguments.results)
    except ResultsError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    output = arguments.output or default_output_directory(arguments.results)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"report: cannot create {output}: {error.strerror or error}", file=sys.stderr)
        return 2
    from . import charts, html_report, markdown_summary  # matplotlib loads only for valid input

    embedded = []
    for chart in charts.build_charts(results):
        paths = charts.save(chart, output, arguments.format)
        fmt = "png" if "png" in paths else "svg"
        embedded.append(html_report.EmbeddedChart(chart.name, chart.title, chart.caption, fmt,
                                                  paths[fmt].read_bytes()))
    if arguments.history:
        embedded += _trend_charts(arguments.history, output, arguments.format, arguments.machine)
    report = output / "report.html"
    report.write_text(html_report.render(results, embedded), encoding="utf-8")
    (output / "summary.md").write_text(markdown_summary.render(results), encoding="utf-8")
    if results.skipped_records:
        print(f"report: skipped {results.skipped_records} records without workload/runtime", file=sys.stderr)
    print(f"report: {len(embedded)} charts ({', '.join(arguments.format)}), summary.md in {output}")
    print(report)
    return 0
