# scripts/history's command line: `add RESULTS.json...` appends runs to the history file (or, with --db,
# imports them into the results database), `changes` prints the change points detected in every series
# (with --db: every machine × case × figure). Exit 0 ok, 2 bad input.
import argparse
import os
import sys
from pathlib import Path

from . import changepoint
from .history import (DEFAULT_HISTORY, add_run, all_case_ids, case_series, load_history, run_entry,
                      save_history)
from .matching import ResultsError
from spindle_db.store import DatabaseError


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
        command.add_argument("--db", help="read and write the results database instead (SQLite path or "
                                          "postgresql:// URL; scripts/db)")
    changes.add_argument("--machine", help="with --db: only this machine (name or fingerprint prefix)")
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


def _add_to_db(arguments) -> int:
    from spindle_db.importer import import_results
    from spindle_db.store import Database

    with Database(arguments.db) as db:
        for results_path in arguments.results:
            for machine, run_id, cases in import_results(db, results_path):
                state = f"as run {run_id}" if run_id else "already recorded"
                print(f"history: {results_path}: machine {machine}, {cases} cases {state} in {arguments.db}")
    return 0


def _detect(arguments: tuple) -> list:
    values, min_shift, alpha = arguments
    return changepoint.detect_change_points(values, min_shift=min_shift, alpha=alpha)


def detect_in_parallel(all_values: list[list[float]], *, min_shift: float, alpha: float) -> list[list]:
    """detect_in_parallel: the change points of every series, on all cores when there are many series."""
    jobs = [(values, min_shift, alpha) for values in all_values]
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or sum(len(values) for values in all_values) < 20_000:
        return [_detect(job) for job in jobs]
    import multiprocessing
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(_detect, jobs, chunksize=max(1, len(jobs) // (4 * workers)))


def _changes_in_db(arguments) -> int:
    from spindle_db.query import all_series
    from spindle_db.store import Database

    with Database(arguments.db) as db:
        series = all_series(db, arguments.machine)
    reported, runs = 0, set()
    found = detect_in_parallel([s.values for s in series], min_shift=arguments.min_shift, alpha=arguments.alpha)
    for s, points in zip(series, found):
        runs.update(s.run_ids)
        for point in points:
            print(f"{s.machine} ({s.fingerprint[:8]}) {s.case_id} {s.metric}: {point.relative_shift:+.1%} at run "
                  f"{s.run_ids[point.index]} (revision {s.revisions[point.index]}, {s.dates[point.index]}): "
                  f"{point.before:.4g} -> {point.after:.4g}, p {point.p_value:.2g}")
            reported += 1
    machines = len({(s.machine, s.fingerprint) for s in series})
    print(f"history: {reported} change point(s) in {len(series)} series ({machines} machines) over {len(runs)} runs")
    return 0


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    try:
        if arguments.db:
            return _add_to_db(arguments) if arguments.command == "add" else _changes_in_db(arguments)
        return _add(arguments) if arguments.command == "add" else _changes(arguments)
    except ResultsError as error:
        sys.stderr.write(f"history: error: {error}\n")
        return 2
    except DatabaseError as error:
        sys.stderr.write(f"history: error: {error}\n")
        return 2
