# A long synthetic history in the results database, made from real results: for scripts/history's speed
# goal (1,000 runs of the full case set, `history changes` in <= 5 s) and the change-point tests. Every
# run stores each case's raw repetitions, drawn lognormally around the real case's median with the real
# case's repetition cv; chosen cases get planted level shifts, returned so a test can score detection.
import datetime
import math
import random
import statistics
from pathlib import Path

from spindle_compare.matching import load_results

from .importer import case_from_id
from .store import Database, digest_of, store_run


def _noise_by_kind(results) -> dict:
    """_noise_by_kind: per (workload, runtime) and per workload, the (median, cv) of a real case."""
    noise = {}
    for case in results.cases.values():
        if len(case.values) >= 2:
            level = statistics.median(case.values)
            cv = statistics.stdev(case.values) / statistics.mean(case.values)
            noise.setdefault((case.workload, case.runtime), (level, cv))
            noise.setdefault((case.workload, None), (level, cv))
    return noise


def generate_history(db: Database, results_path: Path, *, runs: int, case_ids: list[str] | None = None,
                     shifted_every: int = 10, shift: float = 0.10, repetitions: int = 5, seed: int = 1,
                     machine_name: str = "synthetic") -> dict[str, list[tuple[int, float]]]:
    """generate_history: stores `runs` runs of `case_ids` (default: the results file's own cases) on one
    machine named `machine_name`, and returns the planted shifts: case id -> [(run index, factor)]. Every
    `shifted_every`-th case gets one shift by `shift` (a slow-down or the matching speed-up) at a random run
    in the middle half of the history."""
    results = load_results(results_path)
    noise = _noise_by_kind(results)
    case_ids = case_ids or sorted(c for c, case in results.cases.items() if len(case.values) >= 2)
    rng = random.Random(seed)
    planted: dict[str, list[tuple[int, float]]] = {}
    for index, case_id in enumerate(case_ids):
        if shifted_every and index % shifted_every == 0:
            factor = 1 + shift if rng.random() < 0.5 else 1 / (1 + shift)
            planted[case_id] = [(rng.randrange(runs // 4, 3 * runs // 4), factor)]
    template = {c: case_from_id(c, "") for c in case_ids}
    base = {}
    for case_id, case in template.items():
        level, cv = noise.get((case.workload, case.runtime)) or noise.get((case.workload, None)) or (100.0, 0.1)
        base[case_id] = (level, math.sqrt(math.log(1 + cv * cv)))
    fingerprint = f"synthetic-{seed}"
    machine = {"name": machine_name, "fingerprint": fingerprint,
               "hardware": {"cpu_model": f"synthetic from {results_path}"}, "facts": {"source": str(results_path)}}
    from spindle_compare.matching import main_metric

    for run in range(runs):
        cases = []
        for case_id, case in template.items():
            level, sigma = base[case_id]
            for position, factor in planted.get(case_id, []):
                level *= factor if run >= position else 1.0
            case = case_from_id(case_id, main_metric(case.workload))
            case.samples = [level * rng.lognormvariate(0, sigma) for _ in range(repetitions)]
            cases.append(case)
        moment = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=6 * run)
        started_at = moment.strftime("%Y-%m-%dT%H:%M:%SZ")   # four runs a day
        store_run(db, machine=machine, revision=f"syn{run:05d}", started_at=started_at,
                  context={"spindle_schema": 1, "date": started_at, "synthetic": True,
                           "env": {"cpu_model": machine["hardware"]["cpu_model"]}},
                  source=f"synthetic run {run + 1} of {runs} from {results_path}",
                  digest=digest_of(fingerprint, run, runs, case_ids), cases=cases, commit=False)
    db.commit()
    return planted
