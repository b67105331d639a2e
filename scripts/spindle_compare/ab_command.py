# scripts/ab's command line: REV's binary (built in a worktree) against the working tree's binary,
# interleaved on one sweep, then scripts/compare on the merged results. Writes OUT_DIR/{base,new}.json,
# verdict.json and summary.md; exits like compare (0 no regression, 1 regression, 2 bad input/failure).
import argparse
import sys
from pathlib import Path

from . import output
from .ab import (DEFAULT_ROUNDS, DEFAULT_SWEEP, AbError, Arm, build_spindle, log, merge_results,
                 parse_env_assignments, prepare_worktree, resolve_revision, resolve_sweep, run_interleaved,
                 working_tree_binary)
from .compare_command import compare_files, use_colour
from .matching import UNITS, ResultsError
from .venv import REPO_ROOT


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ab", description="A/B gate: REV's spindle (A, BASE) against the working tree's (B, NEW), "
                               "run interleaved on this machine, judged by scripts/compare.")
    parser.add_argument("revision", metavar="REV", help="commit to compare against, e.g. HEAD~1, origin/main")
    parser.add_argument("--sweep", type=Path, default=DEFAULT_SWEEP, help="sweep file (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                        help="rounds; each runs the sweep once per side (default %(default)s)")
    parser.add_argument("--order", choices=("abba", "abab"), default="abba",
                        help="abba (default): reverse the order every other round; abab: always A first")
    parser.add_argument("--out-dir", type=Path, default=Path("results/ab"),
                        help="where results and summary.md go (default %(default)s)")
    parser.add_argument("--unit", choices=UNITS, default="round",
                        help="compare's observation: the median of each round (default; repetitions in "
                             "one process are not independent) or every repetition")
    parser.add_argument("--threshold", type=float, default=0.05)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--sweep-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for `spindle sweep` on both sides (repeatable), "
                             "e.g. --interleave")
    parser.add_argument("--new-env", action="append", default=[], metavar="KEY=VALUE",
                        help="environment variable set for the B side only (repeatable)")
    parser.add_argument("--base-binary", type=Path, help="use this binary as A instead of building REV")
    parser.add_argument("--new-binary", type=Path, help="use this binary as B instead of building the tree")
    parser.add_argument("--no-build", action="store_true",
                        help="do not rebuild the working tree; use build/release/spindle as it is")
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1:
        parser.error("--rounds must be >= 1")
    return arguments


def summary_header(revision: str, commit: str, arguments, sweep: Path) -> str:
    shown_sweep = sweep.relative_to(REPO_ROOT) if sweep.is_relative_to(REPO_ROOT) else sweep
    return (f"## A/B: `{revision}` ({commit[:12]}) vs working tree\n\n"
            f"{arguments.rounds} interleaved rounds ({arguments.order}) of `{shown_sweep}` per side on one "
            f"machine; BASE = `{revision}`, NEW = the working tree.\n\n")


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    out_dir = arguments.out_dir.resolve()
    try:
        sweep = resolve_sweep(arguments.sweep)
        commit = resolve_revision(arguments.revision)
        if arguments.base_binary:
            base_binary, base_cwd = arguments.base_binary.resolve(), REPO_ROOT
        else:
            base_cwd = prepare_worktree(commit)
            log(f"building {arguments.revision} ({commit[:12]}) in {base_cwd.relative_to(REPO_ROOT)}")
            base_binary = build_spindle(base_cwd, base_cwd.parent / "build.log")
        new_binary = (arguments.new_binary.resolve() if arguments.new_binary
                      else working_tree_binary(build=not arguments.no_build))
        arms = [Arm("base", base_binary, base_cwd),
                Arm("new", new_binary, REPO_ROOT, parse_env_assignments(arguments.new_env))]
        log(f"{arguments.rounds} rounds of {sweep.name}: A = {base_binary}, B = {new_binary}")
        files = run_interleaved(arms, sweep, arguments.rounds, out_dir / "runs", order=arguments.order,
                                sweep_args=arguments.sweep_arg)
        for arm in arms:
            merge_results(files[arm.name], out_dir / f"{arm.name}.json")
        comparison = compare_files(out_dir / "base.json", out_dir / "new.json", threshold=arguments.threshold,
                                   alpha=arguments.alpha, unit=arguments.unit,
                                   json_path=out_dir / "verdict.json",
                                   stream=sys.stdout, colour=use_colour())
    except (AbError, ResultsError) as error:
        sys.stderr.write(f"ab: error: {error}\n")
        return 2
    (out_dir / "summary.md").write_text(summary_header(arguments.revision, commit, arguments, sweep)
                                        + output.format_markdown(comparison))
    log(f"wrote {out_dir / 'summary.md'}")
    return comparison.exit_code
