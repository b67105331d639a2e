# The history file (default results/history.json): one entry per recorded run with its git revision,
# date and the median main figure of every ok case, in the order runs were added. Promise: adding the
# same results twice records them once; the file is rewritten atomically.
import json
import os
from pathlib import Path

import numpy as np

from .matching import ResultsError, load_results

HISTORY_SCHEMA = 1
DEFAULT_HISTORY = Path("results/history.json")


def empty_history() -> dict:
    return {"spindle_history": HISTORY_SCHEMA, "runs": []}


def load_history(path: Path) -> dict:
    """load_history: the history document at `path` (an empty one when the file does not exist).
    Raises ResultsError when it exists but is not a Spindle history file."""
    path = Path(path)
    if not path.exists():
        return empty_history()
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path}: cannot read history ({error})") from None
    if not isinstance(document, dict) or document.get("spindle_history") != HISTORY_SCHEMA \
            or not isinstance(document.get("runs"), list):
        raise ResultsError(f"{path}: not a Spindle history file (spindle_history {HISTORY_SCHEMA})")
    return document


def save_history(history: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(history, indent=1) + "\n")
    os.replace(temporary, path)


def run_entry(results_path: Path) -> dict:
    """run_entry: the history entry of one results file: revision, date, machine, and per case_id the
    median of its main figure over ok repetitions (cases with no ok repetition are left out)."""
    results = load_results(results_path)
    medians = {case_id: float(np.median(case.values)) for case_id, case in sorted(results.cases.items())
               if case.values}
    if not medians:
        raise ResultsError(f"{results_path}: no case with an ok repetition, nothing to record")
    return {
        "git_revision": results.git_revision,
        "date": str(results.context.get("date", "")),
        "cpu_model": str(results.env.get("cpu_model", "")),
        "sweep": (results.context.get("sweep") or {}).get("name", ""),
        "source": str(results_path),
        "medians": medians,
        "metrics": {case_id: results.cases[case_id].metric for case_id in medians},
    }


def add_run(history: dict, entry: dict) -> bool:
    """add_run: append `entry` unless a run with the same revision, date and medians is recorded; returns
    whether it was appended."""
    key = (entry["git_revision"], entry["date"], entry["medians"])
    if any((run.get("git_revision"), run.get("date"), run.get("medians")) == key for run in history["runs"]):
        return False
    history["runs"].append(entry)
    return True


def case_series(history: dict, case_id: str) -> tuple[list[int], list[float]]:
    """case_series: (run indices, medians) of the runs that recorded `case_id`, in history order."""
    indices, values = [], []
    for index, run in enumerate(history["runs"]):
        if case_id in run.get("medians", {}):
            indices.append(index)
            values.append(float(run["medians"][case_id]))
    return indices, values


def all_case_ids(history: dict) -> list[str]:
    return sorted({case_id for run in history["runs"] for case_id in run.get("medians", {})})


def case_metric(history: dict, case_id: str) -> str:
    for run in reversed(history["runs"]):
        if case_id in run.get("metrics", {}):
            return run["metrics"][case_id]
    return "ns_per_op"
