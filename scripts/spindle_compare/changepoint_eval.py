# How well change-point detection works on this machine's noise: planted level shifts of 5/10/20% in
# synthetic histories whose run-to-run noise is that of real results (each case's repetition cv in a results
# file, a run's value the median of as many lognormal repetitions), scored for the detection rate (a change
# point within ±TOLERANCE runs of the planted one, same direction) and the false-alarm rate (series with no
# shift in which anything is reported). Methods: `cusum` (the hand-written binary-segmentation CUSUM this
# project used before, kept here only for this comparison), `otava` (Apache Otava's E-Divisive with t-test
# merge, what changepoint.py uses) and `spa` (MongoDB's signal-processing-algorithms e_divisive, when
# importable; it pins numpy < 2, so run it from a venv of its own).
import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from .matching import load_results

TOLERANCE = 3
SHIFTS = (0.05, 0.10, 0.20)


# ---- the former method: binary segmentation with a CUSUM test on log values ------------------------
def _noise_sigma(logs: np.ndarray) -> float:
    if logs.size < 3:
        return 1e-3
    differences = np.diff(logs)
    mad = np.median(np.abs(differences - np.median(differences)))
    return max(float(mad / 0.6745 / math.sqrt(2.0)), 1e-3)


def cusum_change_points(series, min_shift=0.05, alpha=0.01, min_segment=3) -> list[int]:
    """cusum_change_points: indices (first run after) of the former method's change points."""
    values = np.asarray(series, dtype=float)
    logs = np.log(values)
    sigma = _noise_sigma(logs)
    found, pending = [], [(0, values.size)]
    while pending:
        start, stop = pending.pop()
        segment = logs[start:stop]
        n = segment.size
        if n < 2 * min_segment:
            continue
        cusum = np.cumsum(segment - segment.mean())[:-1]
        candidates = np.arange(1, n)
        allowed = (candidates >= min_segment) & (candidates <= n - min_segment)
        k = int(candidates[allowed][np.argmax(np.abs(cusum[allowed]))])
        p_value = float(scipy_stats.kstwobign.sf(abs(cusum[k - 1]) / (sigma * math.sqrt(n))))
        before, after = np.median(values[start:start + k]), np.median(values[start + k:stop])
        if p_value < alpha and abs(after / before - 1.0) >= min_shift:
            found.append(start + k)
            pending += [(start, start + k), (start + k, stop)]
    return sorted(found)


def otava_change_points(series, min_shift=0.05, alpha=0.001, window=50) -> list[int]:
    from . import changepoint
    return [p.index for p in changepoint.detect_change_points(series, min_shift=min_shift, alpha=alpha,
                                                               window=window)]


def spa_change_points(series, min_shift=0.05, alpha=0.01, window=0) -> list[int]:
    from signal_processing_algorithms.energy_statistics.energy_statistics import e_divisive
    points = sorted(e_divisive(np.asarray(series, dtype=float), pvalue=alpha, permutations=100))
    edges = [0, *points, len(series)]
    return [edges[i] for i in range(1, len(edges) - 1)
            if abs(np.median(series[edges[i]:edges[i + 1]]) / np.median(series[edges[i - 1]:edges[i]]) - 1)
            >= min_shift]


METHODS = {"cusum": cusum_change_points, "otava": otava_change_points, "spa": spa_change_points}


# ---- synthetic histories with measured noise --------------------------------------------------------
def measured_noise(results_path: Path) -> list[tuple[str, float, int]]:
    """measured_noise: (case id, cv of its ok repetitions, repetitions) for every case with >= 2 of them."""
    results = load_results(results_path)
    return [(case_id, statistics.stdev(case.values) / statistics.mean(case.values), len(case.values))
            for case_id, case in sorted(results.cases.items()) if len(case.values) >= 2]


def synthetic_series(rng: random.Random, cv: float, repetitions: int, length: int,
                     shifts: list[tuple[int, float]]) -> list[float]:
    """synthetic_series: `length` per-run medians of `repetitions` lognormal draws with coefficient of
    variation `cv`; at each (position, factor) of `shifts` the level is multiplied by factor."""
    sigma = math.sqrt(math.log(1 + cv * cv))
    series, level = [], 100.0
    factors = dict(shifts)
    for run in range(length):
        level *= factors.get(run, 1.0)
        series.append(level * statistics.median(rng.lognormvariate(0, sigma) for _ in range(repetitions)))
    return series


def planted_shifts(rng: random.Random, length: int, count: int, shift: float) -> list[tuple[int, float]]:
    """planted_shifts: `count` positions at least 15 runs apart and from the ends (one shift: in the middle
    third), each a slow-down by `shift` or the matching speed-up (1 / (1 + shift)), at random."""
    while True:
        if count == 1:
            positions = [rng.randrange(length // 3, 2 * length // 3)]
        else:
            positions = sorted(rng.sample(range(15, length - 15), count))
        if all(b - a >= 15 for a, b in zip(positions, positions[1:])):
            return [(p, 1 + shift if rng.random() < 0.5 else 1 / (1 + shift)) for p in positions]


def evaluate(method: str, noise: list[tuple[str, float, int]], *, trials_per_case: int, length: int, seed: int,
             shifts_per_series: int = 1, **options) -> dict:
    """evaluate: per shift size the share of planted shifts found (a point within TOLERANCE runs, same
    direction) and of series with a point far from every planted shift; for unshifted series, the share
    with any point (the false-alarm rate)."""
    detect = METHODS[method]
    outcome = {"method": method, "options": options, "series_length": length, "tolerance_runs": TOLERANCE,
               "shifts_per_series": shifts_per_series}
    started = time.perf_counter()
    for shift in (0.0, *SHIFTS):
        rng = random.Random(f"{seed}-{shift}-{shifts_per_series}")
        hits = planted = alarms = trials = 0
        for _ in range(trials_per_case):
            for case_id, cv, repetitions in noise:
                shifts = planted_shifts(rng, length, shifts_per_series, shift) if shift else []
                series = synthetic_series(rng, cv, repetitions, length, shifts)
                points = detect(series, **options)
                trials += 1
                planted += len(shifts)
                for position, factor in shifts:
                    hits += any(abs(p - position) <= TOLERANCE
                                and (series_median(series, p, points, after=True) > series_median(series, p, points))
                                == (factor > 1) for p in points)
                alarms += any(all(abs(p - position) > TOLERANCE for position, _ in shifts) for p in points)
        key = "null" if shift == 0.0 else f"{round(shift * 100)}%"
        outcome[key] = {"trials": trials, "planted": planted, "detected": hits, "series_with_a_false_point": alarms,
                        "detection_rate": hits / planted if planted else None, "false_alarm_rate": alarms / trials}
    outcome["seconds"] = round(time.perf_counter() - started, 1)
    return outcome


def series_median(series: list[float], point: int, points: list[int], after: bool = False) -> float:
    """series_median: the median of the segment before (or after) change point `point` among `points`."""
    edges = [0, *sorted(points), len(series)]
    i = edges.index(point)
    return statistics.median(series[point:edges[i + 1]] if after else series[edges[i - 1]:point])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="evaluate-changepoints", description=__doc__)
    parser.add_argument("noise", type=Path, metavar="RESULTS.json", help="real results whose repetition noise to use")
    parser.add_argument("--methods", default="cusum,otava", help="comma list of cusum, otava, spa")
    parser.add_argument("--alpha", type=float, action="append",
                        help="significance level(s) to try (default: each method's default)")
    parser.add_argument("--window", type=int, action="append", help="otava: sliding window(s) in runs to try")
    parser.add_argument("--trials-per-case", type=int, default=4)
    parser.add_argument("--length", type=int, default=60, help="runs per synthetic history (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shifts-per-series", type=int, default=1,
                        help="planted shifts per series, each of the same size (default 1)")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    arguments = parser.parse_args(argv)
    noise = measured_noise(arguments.noise)
    cvs = sorted(cv for _, cv, _ in noise)
    print(f"noise: {len(noise)} cases of {arguments.noise}, repetition cv median {statistics.median(cvs):.1%} "
          f"(range {cvs[0]:.1%}..{cvs[-1]:.1%})")
    outcomes = []
    for method in arguments.methods.split(","):
        for alpha, window in [(a, w) for a in arguments.alpha or [None]
                              for w in (arguments.window if method == "otava" and arguments.window else [None])]:
            options = {} if alpha is None else {"alpha": alpha}
            options |= {} if window is None else {"window": window}
            outcome = evaluate(method, noise, trials_per_case=arguments.trials_per_case, length=arguments.length,
                               seed=arguments.seed, shifts_per_series=arguments.shifts_per_series,
                               **options)
            outcomes.append(outcome)
            rates = ", ".join(f"{k} detected {outcome[k]['detection_rate']:.0%}" for k in ("5%", "10%", "20%"))
            print(f"{method:6} {options}: {rates}; false alarms {outcome['null']['false_alarm_rate']:.1%} of "
                  f"{outcome['null']['trials']} unshifted series ({outcome['seconds']} s)")
            sys.stdout.flush()
    if arguments.json:
        arguments.json.write_text(json.dumps(outcomes, indent=1) + "\n")
    return 0
