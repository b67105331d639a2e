# scripts/compare's command line: parse arguments, load both files, print the verdict table, write the
# optional Markdown and JSON, and return the exit code (0 no regression, 1 regression, 2 bad input).
# compare_files() is the same without argument parsing, for scripts/ab and scripts/calibrate.
import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from . import output, stats
from .matching import UNITS, ResultsError, load_results
from .verdict import Comparison, compare


def compare_files(base_path: Path, new_path: Path, *, threshold: float = 0.05, alpha: float = 0.01,
                  resamples: int = stats.DEFAULT_RESAMPLES, unit: str = "repetition",
                  markdown: Path | None = None,
                  json_path: Path | None = None, stream: TextIO | None = None,
                  colour: bool = False, machine: str | None = None) -> Comparison:
    """compare_files: load, compare, print the table to `stream` (None: print nothing), write the
    requested files. `machine` picks one machine of a file merged from several.
    Raises ResultsError for bad input."""
    comparison = compare(load_results(base_path, unit, machine), load_results(new_path, unit, machine),
                         threshold=threshold,
                         alpha=alpha, resamples=resamples, unit=unit)
    if stream is not None:
        stream.write(output.format_table(comparison, colour))
        stream.flush()
    if markdown:
        output.write_markdown(comparison, markdown)
    if json_path:
        output.write_json(comparison, json_path)
    return comparison


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="compare",
        description="Regression verdict of NEW against BASE (Spindle results JSON). Exit 0: no "
                    "regression; 1: at least one regression or broken case; 2: bad input.")
    parser.add_argument("base", metavar="BASE.json", help="results file, or with --db a run: id, 'latest' or a "
                                                           "git revision prefix")
    parser.add_argument("new", metavar="NEW.json")
    parser.add_argument("--db", help="read BASE and NEW from the results database (SQLite path or postgresql:// URL)")
    parser.add_argument("--machine", help="the machine to compare, in a merged file of several or in --db")
    parser.add_argument("--threshold", type=float, default=0.05,
                        help="relative change of the median that matters (default 0.05 = 5%%)")
    parser.add_argument("--alpha", type=float, default=0.01,
                        help="family-wise significance level after Holm's correction (default 0.01)")
    parser.add_argument("--resamples", type=int, default=stats.DEFAULT_RESAMPLES,
                        help="bootstrap resamples per case (default %(default)s)")
    parser.add_argument("--unit", choices=UNITS, default="repetition",
                        help="one observation = one repetition (default), or the median of one ab_round "
                             "(files merged by scripts/ab)")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write a Markdown summary")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the verdict as JSON")
    parser.add_argument("--colour", "--color", choices=("auto", "always", "never"), default="auto",
                        help="ANSI colours: auto = only when stdout is a terminal and NO_COLOR is unset")
    arguments = parser.parse_args(argv)
    if not 0 < arguments.alpha < 1 or arguments.threshold < 0 or arguments.resamples < 100:
        parser.error("need 0 < --alpha < 1, --threshold >= 0, --resamples >= 100")
    return arguments


def use_colour(choice: str = "auto") -> bool:
    """use_colour: 'always', 'never', or 'auto' = stdout is a terminal and NO_COLOR is unset."""
    return choice == "always" or (choice == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))


def _compare_runs_in_db(arguments, colour: bool) -> int:
    """_compare_runs_in_db: BASE and NEW are runs of the database, exported as results files and compared."""
    import json
    import tempfile

    from spindle_db.query import resolve_run, run_document
    from spindle_db.store import Database, DatabaseError

    try:
        with Database(arguments.db) as db, tempfile.TemporaryDirectory() as directory:
            paths = []
            for side, selector in (("base", arguments.base), ("new", arguments.new)):
                run_id = resolve_run(db, selector, arguments.machine)
                paths.append(Path(directory) / f"{side}-run-{run_id}.json")
                paths[-1].write_text(json.dumps(run_document(db, run_id)))
            comparison = compare_files(paths[0], paths[1], threshold=arguments.threshold, alpha=arguments.alpha,
                                       resamples=arguments.resamples, unit=arguments.unit,
                                       markdown=arguments.markdown, json_path=arguments.json, stream=sys.stdout,
                                       colour=colour)
    except DatabaseError as error:
        raise ResultsError(str(error)) from None
    return comparison.exit_code


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    colour = use_colour(arguments.colour)
    try:
        if arguments.db:
            return _compare_runs_in_db(arguments, colour)
        comparison = compare_files(Path(arguments.base), Path(arguments.new), threshold=arguments.threshold,
                                   alpha=arguments.alpha, resamples=arguments.resamples,
                                   unit=arguments.unit, markdown=arguments.markdown, json_path=arguments.json,
                                   stream=sys.stdout, colour=colour, machine=arguments.machine)
    except ResultsError as error:
        sys.stderr.write(f"compare: error: {error}\n")
        return 2
    return comparison.exit_code
