# scripts/db's command line: `import RESULTS.json...` (and `--history FILE` for today's history file),
# `machines`, `runs`, `export RUN --out FILE`. The database is --db PATH (SQLite, default
# results/spindle.db) or --db postgresql://... Exit 0 ok, 2 bad input (one line naming it).
import argparse
import json
import os
import sys
from pathlib import Path

from spindle_compare.matching import ResultsError

from . import query
from .importer import import_history_file, import_results
from .store import DEFAULT_DB, Database, DatabaseError

DB_HELP = "SQLite file (default %(default)s) or postgresql://user@host:port/dbname; env SPINDLE_DB"


def add_db_option(parser: argparse.ArgumentParser, default=None) -> None:
    parser.add_argument("--db", default=os.environ.get("SPINDLE_DB") or default or str(DEFAULT_DB), help=DB_HELP)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="db", description="The Spindle results database.")
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser("import", help="store results files (a run per machine) and history files")
    importing.add_argument("results", type=Path, nargs="*", metavar="RESULTS.json")
    importing.add_argument("--history", type=Path, action="append", default=[], metavar="FILE",
                           help="also import a history file written by scripts/history add")
    commands.add_parser("machines", help="the machines and their hardware fingerprints")
    listing = commands.add_parser("runs", help="the latest runs, newest first")
    listing.add_argument("--limit", type=int, default=50)
    export = commands.add_parser("export", help="one run as Spindle results JSON")
    export.add_argument("run", help="run id, 'latest', or a git revision prefix")
    export.add_argument("--out", type=Path, help="file to write (default stdout)")
    synthetic = commands.add_parser("generate-history",
                                    help="store a long synthetic history made from real results, with planted "
                                         "shifts (for measuring scripts/history changes)")
    synthetic.add_argument("results", type=Path, metavar="RESULTS.json", help="real results: levels and noise")
    synthetic.add_argument("--runs", type=int, default=1000)
    synthetic.add_argument("--case-ids", type=Path, metavar="FILE",
                           help="the cases to generate, one id a line (e.g. `spindle sweep full --dry-run`'s); "
                                "each borrows the noise of a real case of its workload and runtime")
    synthetic.add_argument("--shift", type=float, default=0.10, help="planted shift (default %(default)s)")
    synthetic.add_argument("--shifted-every", type=int, default=10, help="every N-th case gets a shift")
    synthetic.add_argument("--seed", type=int, default=1)
    for command in (importing, commands.choices["machines"], listing, export, synthetic):
        add_db_option(command)
    for command in (listing, export):
        command.add_argument("--machine", help="only this machine (name or fingerprint prefix)")
    arguments = parser.parse_args(argv)
    if arguments.command == "import" and not arguments.results and not arguments.history:
        parser.error("import: give RESULTS.json files and/or --history FILE")
    return arguments


def _import(db: Database, arguments) -> int:
    for path in arguments.results:
        for machine, run_id, cases in import_results(db, path):
            state = f"as run {run_id}" if run_id else "already stored"
            print(f"db: {path}: machine {machine}, {cases} cases {state}")
    for path in arguments.history:
        stored, skipped = import_history_file(db, path)
        print(f"db: {path}: {stored} runs stored, {skipped} already there")
    return 0


def _generate(db: Database, arguments) -> int:
    from .synthetic import generate_history

    case_ids = None
    if arguments.case_ids:
        case_ids = [line.split()[0] for line in arguments.case_ids.read_text().splitlines()
                    if line.startswith("  ") and "/" in line] or \
                   [line.strip() for line in arguments.case_ids.read_text().splitlines() if line.strip()]
    if arguments.runs < 2:
        raise ResultsError(f"--runs {arguments.runs}: expected at least 2")
    planted = generate_history(db, arguments.results, runs=arguments.runs, case_ids=case_ids,
                               shifted_every=arguments.shifted_every, shift=arguments.shift, seed=arguments.seed)
    for case_id, shifts in sorted(planted.items()):
        for run, factor in shifts:
            print(f"planted {factor - 1:+.1%} at run {run + 1}: {case_id}")
    print(f"db: {arguments.runs} synthetic runs stored in {arguments.db}")
    return 0


def _table(rows: list[tuple], header: tuple) -> None:
    text = [tuple("" if v is None else str(v) for v in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in text) for i in range(len(header))]
    for row in text:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())


def run(arguments) -> int:
    with Database(arguments.db) as db:
        if arguments.command == "import":
            return _import(db, arguments)
        if arguments.command == "generate-history":
            return _generate(db, arguments)
        if arguments.command == "machines":
            _table(query.machines(db), ("name", "fingerprint", "cpu", "cores", "memory", "kernel", "virt", "runs"))
        elif arguments.command == "runs":
            _table(query.runs(db, arguments.machine, arguments.limit),
                   ("run", "machine", "revision", "time", "sweep", "shard", "source", "cases", "ok"))
        else:
            document = query.run_document(db, query.resolve_run(db, arguments.run, arguments.machine))
            text = json.dumps(document, indent=1) + "\n"
            if arguments.out:
                arguments.out.write_text(text)
                print(f"db: run {arguments.run} -> {arguments.out}", file=sys.stderr)
            else:
                sys.stdout.write(text)
    return 0


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    try:
        return run(arguments)
    except (DatabaseError, ResultsError) as error:
        sys.stderr.write(f"db: error: {error}\n")
        return 2
