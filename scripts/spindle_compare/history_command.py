# scripts/history's command line: `add RESULTS.json...` appends runs to the history file, `changes`
# prints the change points detected in every case's series. Exit 0 ok, 2 bad input.
import argparse
import sys
from pathlib import Path

from . import changepoint
from .history import (DEFAULT_HISTORY, add_run, all_case_ids, case_series, load_history, run_entry,
                      save_history)
from .matching import ResultsError


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="history", description="Per-case history of Spindle results.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="append the medians of results files to the history")
    add.add_argument("results", type=Path, nargs="+", metavar="RESULTS.json")
    changes = commands.add_parser("changes", help="print the change points of every case")
    changes.add_argument("--min-shift", type=float, default=changepoint.DEFAULT_MIN_SHIFT,
                         help="smallest relative level change reported (default %(default)s)")
    changes.add_argument("--alpha", type=float, default=changepoint.DEFAULT_ALPHA)
    for command in (add, changes):
        command.add_argument("--file", type=Path, default=DEFAULT_HISTORY,
                             help="history file (default %(default)s)")
    return parser.parse_args(argv)


def _add(arguments) -> int:
    history = load_history(arguments.file)
    for results_path in arguments.results:
        entry = run_entry(results_path)
        if add_run(history, entry):
            print(f"history: added {results_path} (revision {entry['git_revision']}, {entry['date']}, "
                  f"{len(entry['medians'])} cases) as run {len(history['runs'])} of {arguments.file}")
        else:
            print(f"history: {results_path} is already recorded in {arguments.file}")
    save_history(history, arguments.file)
    return 0


def _changes(arguments) -> int:
    history = load_history(arguments.file)
    runs = history["runs"]
    reported = 0
    for case_id in all_case_ids(history):
        indices, values = case_series(history, case_id)
        for point in changepoint.detect_change_points(values, min_shift=arguments.min_shift,
                                                      alpha=arguments.alpha):
            run = runs[indices[point.index]]
            print(f"{case_id}: {point.relative_shift:+.1%} at run {indices[point.index] + 1} "
                  f"(revision {run.get('git_revision')}, {run.get('date')}): "
                  f"{point.before:.4g} -> {point.after:.4g}, p {point.p_value:.2g}")
            reported += 1
    print(f"history: {reported} change point(s) in {len(all_case_ids(history))} cases over {len(runs)} runs")
    return 0


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    try:
        return _add(arguments) if arguments.command == "add" else _changes(arguments)
    except ResultsError as error:
        sys.stderr.write(f"history: error: {error}\n")
        return 2
