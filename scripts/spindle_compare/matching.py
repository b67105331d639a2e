# Reading Spindle results JSON (docs/results-format.md) into per-case samples: the main figure of every
# ok iteration record, grouped by case_id, plus the environment fields a comparison must check. Raises
# ResultsError with one printable line for anything that is not Spindle results.
import json
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPPORTED_SCHEMA = 1
# The environment fields whose difference makes two result files hard to compare.
ENV_FIELDS_TO_MATCH = ("cpu_model", "cores", "compiler", "go_version", "build_type")
METRIC_UNITS = {"ns_per_op": "ns/op", "rss_bytes_per_task": "B/task"}


class ResultsError(Exception):
    """ResultsError: the input is unreadable or is not Spindle results; str() is one line for the user."""


def main_metric(workload: str) -> str:
    """main_metric: the counter a workload is judged by (docs/results-format.md): lower is better for both."""
    return "rss_bytes_per_task" if workload == "memory-per-task" else "ns_per_op"


@dataclass
class CaseSamples:
    """CaseSamples: everything one results file says about one case."""
    case_id: str
    workload: str
    runtime: str
    metric: str
    values: list[float] = field(default_factory=list)      # main figure of each ok iteration record
    bad_statuses: Counter = field(default_factory=Counter)  # status -> count, for records not ok
    reason: str = ""                                        # reason of the last record that was not ok

    @property
    def unit(self) -> str:
        return METRIC_UNITS[self.metric]

    def status_summary(self) -> str:
        """status_summary: e.g. 'ok' or 'crashed x3 (signal 11 ...)'."""
        if not self.bad_statuses:
            return "ok"
        parts = [f"{status} x{count}" for status, count in sorted(self.bad_statuses.items())]
        return ", ".join(parts) + (f" ({self.reason})" if self.reason else "")


@dataclass
class Results:
    """Results: one loaded results file."""
    path: str
    context: dict
    cases: dict[str, CaseSamples]

    @property
    def env(self) -> dict:
        return self.context.get("env") or {}

    @property
    def git_revision(self) -> str:
        """git_revision: context.env.git_revision, shortened to 12 digits, '-dirty' when git_dirty."""
        env = self.env
        revision = str(env.get("git_revision", "") or "")[:12]
        return revision + ("-dirty" if env.get("git_dirty") else "") if revision else "unknown"


def case_id_of(record: dict) -> str:
    """case_id_of: the record's case_id, or the same key rebuilt from its fields for records that lack it
    (workload/runtime/param:value.../workers:N[/stack_policy:P], params in the record's order)."""
    if record.get("case_id"):
        return str(record["case_id"])
    if record.get("workload") and record.get("runtime"):
        parts = [record["workload"], record["runtime"]]
        parts += [f"{key}:{value}" for key, value in (record.get("params") or {}).items()]
        if "workers" in record:
            parts.append(f"workers:{record['workers']}")
        if record.get("stack_policy"):
            parts.append(f"stack_policy:{record['stack_policy']}")
        return "/".join(parts)
    name = str(record.get("run_name") or record.get("name") or "")
    return name.removesuffix("/manual_time")


def metric_value(record: dict, metric: str) -> float | None:
    """metric_value: the record's positive, finite `metric`, or None (ns_per_op from ops and real_time if absent)."""
    value = record.get(metric)
    if value is None and metric == "ns_per_op" and record.get("ops") and record.get("real_time"):
        value = record["real_time"] * 1e6 / record["ops"]  # real_time is in ms
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return float(value)
    return None


UNITS = ("repetition", "round")


def machine_records(document: dict, path: str, machine: str | None) -> tuple[list, dict]:
    """machine_records: the records and context of one machine of a results file. A file merged from
    several machines (`spindle merge`: records carry `machine_fingerprint`, context.machines lists them) is
    never pooled: without `machine` it is refused, naming its machines. A file of one machine is used as
    it is, whatever `machine` says."""
    context = document["context"]
    machines = context.get("machines") if isinstance(context.get("machines"), list) else []
    machines = [m for m in machines if isinstance(m, dict)]
    if len(machines) <= 1:
        return document["benchmarks"], context
    names = [str(m.get("name")) for m in machines]
    if machine is None:
        raise ResultsError(f"{path}: results of {len(names)} machines ({', '.join(names)}); they are never "
                           f"pooled: choose one with --machine NAME")
    chosen = [m for m in machines if machine in (m.get("name"), m.get("fingerprint"), m.get("host_name"))]
    if not chosen:
        raise ResultsError(f"{path}: no machine {machine!r} in it (machines: {', '.join(names)})")
    fingerprint = chosen[0].get("fingerprint")
    records = [r for r in document["benchmarks"] if isinstance(r, dict) and r.get("machine_fingerprint") == fingerprint]
    return records, dict(context, env=chosen[0].get("env") or context.get("env"), machine=chosen[0])


def parse_results(document: Any, path: str, unit: str = "repetition", machine: str | None = None) -> Results:
    """parse_results: validate a decoded JSON document and group its iteration records by case_id.
    unit 'repetition': every ok iteration record is one observation. unit 'round': the observations are
    the medians of each `ab_round` (the records of one process run, tagged by scripts/ab when merging),
    because repetitions inside one process share its state and its moment of machine load."""
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise ResultsError(f"{path}: not Spindle results JSON (no 'benchmarks' array)")
    context = document.get("context")
    if not isinstance(context, dict) or "spindle_schema" not in context:
        raise ResultsError(f"{path}: not Spindle results JSON (no context.spindle_schema; "
                           f"plain Google Benchmark output is not enough)")
    if context["spindle_schema"] != SUPPORTED_SCHEMA:
        raise ResultsError(f"{path}: spindle_schema {context['spindle_schema']!r} is not supported "
                           f"(this script reads {SUPPORTED_SCHEMA})")
    records, context = machine_records(document, path, machine)
    cases: dict[str, CaseSamples] = {}
    rounds: dict[str, dict[Any, list[float]]] = {}
    for record in records:
        if not isinstance(record, dict) or record.get("run_type", "iteration") != "iteration":
            continue
        case_id = case_id_of(record)
        workload = str(record.get("workload") or case_id.split("/")[0])
        samples = cases.get(case_id)
        if samples is None:
            samples = cases[case_id] = CaseSamples(case_id, workload, str(record.get("runtime", "")),
                                                   main_metric(workload))
        status = record.get("status", "failed" if record.get("error_occurred") else "ok")
        value = metric_value(record, samples.metric) if status == "ok" else None
        if value is not None:
            if unit == "round":
                if "ab_round" not in record:
                    raise ResultsError(f"{path}: --unit round needs records tagged with ab_round "
                                       f"(results merged by scripts/ab)")
                rounds.setdefault(case_id, {}).setdefault(record["ab_round"], []).append(value)
            else:
                samples.values.append(value)
        else:
            bad_status = status if status != "ok" else "no-figure"
            samples.bad_statuses[bad_status] += 1
            samples.reason = str(record.get("reason") or record.get("error_message")
                                 or f"record has no positive {samples.metric}")
    for case_id, values_by_round in rounds.items():
        cases[case_id].values = [statistics.median(values) for _, values in sorted(values_by_round.items())]
    return Results(path, context, cases)


def load_results(path: str | Path, unit: str = "repetition", machine: str | None = None) -> Results:
    """load_results: read and parse one results file; ResultsError on any problem."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ResultsError(f"{path}: cannot read ({error.strerror})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultsError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    return parse_results(document, str(path), unit, machine)


def environment_differences(base: Results, new: Results) -> list[str]:
    """environment_differences: one line per ENV_FIELDS_TO_MATCH field that differs between the files.
    A field missing on one side counts as different only when the other side has it."""
    lines = []
    for name in ENV_FIELDS_TO_MATCH:
        base_value, new_value = base.env.get(name), new.env.get(name)
        if base_value != new_value and not (base_value in (None, "") and new_value in (None, "")):
            lines.append(f"{name} differs: BASE {base_value!r}, NEW {new_value!r}")
    return lines
