# scripts/calibrate: measures the A/B gate's error rates on this machine. Each trial runs one binary as
# three interleaved arms - base, same (A/A) and slowed (SPINDLE_SLOWDOWN_PCT set) - and compares base
# with each; prints the detection rate and the false-alarm rate with exact 95% intervals.
import argparse
import json
import sys
import time
from pathlib import Path

from scipy import stats as scipy_stats

from .ab import (DEFAULT_ROUNDS, DEFAULT_SWEEP, AbError, Arm, merge_results, resolve_sweep,
                 run_interleaved, working_tree_binary)
from .compare_command import compare_files
from .matching import UNITS, ResultsError
from .venv import REPO_ROOT
from .verdict import REGRESSION

SLOWDOWN_VARIABLE = "SPINDLE_SLOWDOWN_PCT"


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """clopper_pearson: exact binomial interval of a rate observed as successes/trials."""
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if successes == 0 else float(scipy_stats.beta.ppf(tail, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(scipy_stats.beta.ppf(1 - tail, successes + 1,
                                                                        trials - successes))
    return low, high


def rate_line(label: str, hits: int, trials: int) -> str:
    low, high = clopper_pearson(hits, trials)
    return f"{label}: {hits}/{trials} trials = {hits / trials:.0%} (95% CI {low:.0%}-{high:.0%})"


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="calibrate", description="Detection rate of an injected slowdown and false-alarm rate of A/A "
                                      "runs for the A/B gate (scripts/ab), on this machine.")
    parser.add_argument("--trials", type=int, default=10, help="trials (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                        help="interleaved rounds per trial, as scripts/ab --rounds (default %(default)s)")
    parser.add_argument("--sweep", type=Path, default=DEFAULT_SWEEP, help="sweep file (default %(default)s)")
    parser.add_argument("--slowdown-pct", type=float, default=10.0,
                        help=f"{SLOWDOWN_VARIABLE} of the slowed arm (default %(default)s)")
    parser.add_argument("--unit", choices=UNITS, default="round", help="as scripts/ab --unit")
    parser.add_argument("--threshold", type=float, default=0.05)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--binary", type=Path,
                        help="spindle binary (default: build/release/spindle, rebuilt)")
    parser.add_argument("--no-build", action="store_true", help="use build/release/spindle as it is")
    parser.add_argument("--out-dir", type=Path, default=Path("results/calibrate"))
    arguments = parser.parse_args(argv)
    if arguments.trials < 1 or arguments.rounds < 1:
        parser.error("--trials and --rounds must be >= 1")
    return arguments


def run_trial(index: int, arms: list[Arm], arguments, sweep: Path, out_dir: Path) -> dict:
    trial_dir = out_dir / f"trial{index:02d}"
    files = run_interleaved(arms, sweep, arguments.rounds, trial_dir / "runs")
    for arm in arms:
        merge_results(files[arm.name], trial_dir / f"{arm.name}.json")
    outcome = {}
    for kind, other in (("aa", "same"), ("slowed", "slowed")):
        comparison = compare_files(trial_dir / "base.json", trial_dir / f"{other}.json",
                                   threshold=arguments.threshold, alpha=arguments.alpha,
                                   unit=arguments.unit, json_path=trial_dir / f"verdict-{kind}.json",
                                   stream=None)
        tested = [case for case in comparison.cases if case.ratio is not None]
        outcome[kind] = {"exit_code": comparison.exit_code,
                         "regressions": [case.case_id for case in comparison.with_verdict(REGRESSION)],
                         "improvements": [case.case_id for case in comparison.with_verdict("improvement")],
                         "tested": len(tested),
                         "ratios": {case.case_id: round(case.ratio, 4) for case in tested}}
    return outcome


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    out_dir = arguments.out_dir.resolve()
    try:
        sweep = resolve_sweep(arguments.sweep)
        binary = (arguments.binary.resolve() if arguments.binary
                  else working_tree_binary(build=not arguments.no_build))
        slowdown = f"{arguments.slowdown_pct:g}"
        arms = [Arm("base", binary, REPO_ROOT, {SLOWDOWN_VARIABLE: None}),
                Arm("same", binary, REPO_ROOT, {SLOWDOWN_VARIABLE: None}),
                Arm("slowed", binary, REPO_ROOT, {SLOWDOWN_VARIABLE: slowdown})]
        trials, started = [], time.monotonic()
        for index in range(1, arguments.trials + 1):
            outcome = run_trial(index, arms, arguments, sweep, out_dir)
            trials.append(outcome)
            elapsed = time.monotonic() - started
            print(f"trial {index}/{arguments.trials}: A/A {len(outcome['aa']['regressions'])} false "
                  f"regression(s); +{slowdown}%: {len(outcome['slowed']['regressions'])}/"
                  f"{outcome['slowed']['tested']} cases flagged, median ratios "
                  f"{sorted(outcome['slowed']['ratios'].values())}  [{elapsed:.0f} s, about "
                  f"{elapsed / index * (arguments.trials - index):.0f} s to go]", flush=True)
    except (AbError, ResultsError) as error:
        sys.stderr.write(f"calibrate: error: {error}\n")
        return 2
    detected = sum(bool(trial["slowed"]["regressions"]) for trial in trials)
    false_alarms = sum(trial["aa"]["exit_code"] != 0 for trial in trials)
    flagged_cases = sum(len(trial["slowed"]["regressions"]) for trial in trials)
    tested_cases = sum(trial["slowed"]["tested"] for trial in trials)
    aa_improvements = sum(bool(trial["aa"]["improvements"]) for trial in trials)
    lines = [
        f"calibration: {arguments.trials} trials x {arguments.rounds} interleaved rounds of {sweep.name}, "
        f"threshold {arguments.threshold:g}, alpha {arguments.alpha:g}, unit {arguments.unit}, "
        f"binary {binary}",
        rate_line(f"detection rate ({SLOWDOWN_VARIABLE}={slowdown})", detected, len(trials))
        + f"; cases flagged {flagged_cases}/{tested_cases}",
        rate_line("false-alarm rate (A/A, gate failed)", false_alarms, len(trials))
        + f"; A/A trials with a spurious improvement: {aa_improvements}",
        f"elapsed {time.monotonic() - started:.0f} s",
    ]
    print("\n".join(lines))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "calibration.json").write_text(json.dumps(
        {"arguments": {key: str(value) for key, value in vars(arguments).items()},
         "detected": detected, "false_alarms": false_alarms, "trials": trials}, indent=1) + "\n")
    (out_dir / "calibration.md").write_text("\n".join(f"- {line}" for line in lines) + "\n")
    return 0
