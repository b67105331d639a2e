# The `scripts/report RESULTS.json [-o DIR] [--format png,svg]` command: validates the input (exit 2 with
# one line on stderr when it is not Spindle JSON), then writes every chart, report.html and summary.md into
# DIR and prints the path of report.html last.
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .results import ResultsError, load, parse as parse_document

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
    parser.add_argument("results", type=Path, nargs="?",
                        help="Spindle results JSON (spindle run/sweep/merge --out); omit with --db")
    parser.add_argument("--db", metavar="DB",
                        help="report the latest run of every machine in the results database (SQLite path or "
                             "postgresql:// URL) instead of a results file")
    parser.add_argument("--ratio-to", metavar="RUNTIME",
                        help="across machines: ratios to this runtime (default go, else the first runtime); "
                             "drawn whenever the input holds several machines")
    parser.add_argument("-o", "--output", type=Path, help="output directory (default: <results>-report/)")
    parser.add_argument("--format", type=_formats, default=list(FORMATS),
                        help="chart files to write: png, svg or png,svg (default png,svg)")
    parser.add_argument("--history", metavar="FILE|DB",
                        help="a history file (scripts/history add) or the results database (an SQLite file or a "
                             "postgresql:// URL, scripts/db): one trend chart per series, change points marked")
    parser.add_argument("--machine", help="with a database: only this machine's series (name or fingerprint prefix)")
    arguments = parser.parse_args(argv)
    if (arguments.results is None) == (arguments.db is None):
        parser.error("give a results file or --db DB (one of them)")
    return arguments


def _load_machines(arguments) -> tuple[Path, list]:
    """_load_machines: the input's path (or a name for the database) and (machine, Results) per machine;
    a file of one machine is read exactly as before (results.load)."""
    import json

    from .machines import split_by_machine

    if arguments.db:
        from spindle_db.query import machines as list_machines, resolve_run, run_document
        from spindle_db.store import Database, DatabaseError

        try:
            with Database(arguments.db) as db:
                documents = [(name, run_document(db, resolve_run(db, "latest", fingerprint)))
                             for name, fingerprint, *_ in list_machines(db)]
        except DatabaseError as error:
            raise ResultsError(str(error)) from None
        path = Path("results") / "spindle-db"
        return path, [(f"{name}" if [n for n, _ in documents].count(name) == 1 else f"{name}-{i}",
                       parse_document(document, path)) for i, (name, document) in enumerate(documents)]
    results = load(arguments.results)
    document = json.loads(arguments.results.read_text(encoding="utf-8"))
    machines = split_by_machine(document, arguments.results)
    return arguments.results, machines if len(machines) > 1 else [(machines[0][0], results)]


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


def _write_report(results, output: Path, arguments, first: list, history: bool) -> int:
    """_write_report: the charts, report.html and summary.md of one machine's results into `output`, with
    the `first` embedded charts at the top; returns the number of charts embedded."""
    from . import charts, html_report, markdown_summary  # matplotlib loads only for valid input

    embedded = list(first)
    for chart in charts.build_charts(results):
        paths = charts.save(chart, output, arguments.format)
        fmt = "png" if "png" in paths else "svg"
        embedded.append(html_report.EmbeddedChart(chart.name, chart.title, chart.caption, fmt,
                                                  paths[fmt].read_bytes()))
    if history:
        embedded += _trend_charts(arguments.history, output, arguments.format, arguments.machine)
    (output / "report.html").write_text(html_report.render(results, embedded), encoding="utf-8")
    (output / "summary.md").write_text(markdown_summary.render(results), encoding="utf-8")
    return len(embedded)


def _across_machines(machines: list, output: Path, arguments) -> list:
    """_across_machines: the ratio charts (embedded) and machines.md of several machines."""
    from . import charts, html_report
    from .machines import default_reference, ratio_charts, ratio_markdown, ratios

    reference = arguments.ratio_to or default_reference(machines)
    names = [name for name, _ in machines]
    if reference is None:
        print("report: no runtime ran ok on every machine: no ratios across machines", file=sys.stderr)
        return []
    rows = ratios(machines, reference)
    embedded = []
    for chart in ratio_charts(rows, reference, names):
        paths = charts.save(chart, output, arguments.format)
        fmt = "png" if "png" in paths else "svg"
        embedded.append(html_report.EmbeddedChart(chart.name, chart.title, chart.caption, fmt,
                                                  paths[fmt].read_bytes()))
    (output / "machines.md").write_text(ratio_markdown(rows, reference, names), encoding="utf-8")
    return embedded


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        source, machines = _load_machines(arguments)
    except ResultsError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    output = arguments.output or default_output_directory(source)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"report: cannot create {output}: {error.strerror or error}", file=sys.stderr)
        return 2
    first = _across_machines(machines, output, arguments) if len(machines) > 1 or arguments.ratio_to else []
    results = machines[0][1]
    count = _write_report(results, output, arguments, first, bool(arguments.history))
    for name, other in machines[1:]:   # every other machine: its own full report beside
        directory = output / ("machine-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in name))
        directory.mkdir(exist_ok=True)
        _write_report(other, directory, arguments, [], False)
        print(f"report: machine {name}: {directory / 'report.html'}")
    if results.skipped_records:
        print(f"report: skipped {results.skipped_records} records without workload/runtime", file=sys.stderr)
    across = f", machines.md ({len(machines)} machines)" if first or len(machines) > 1 else ""
    print(f"report: {count} charts ({', '.join(arguments.format)}), summary.md{across} in {output}")
    print(output / "report.html")
    return 0
