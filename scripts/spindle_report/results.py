# Reads one Spindle results file (docs/results-format.md), checks that it is Spindle JSON, and groups its
# records into cases (one per case_id) holding the main figure of every ok repetition and the case's status.
# Anything unusable raises ResultsError with a one-line message; nothing here draws or writes.
from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .noise import Noise, noise_of
from .units import declare_figure, figure_of

# Statuses from the results format, least to most severe (a case's status is the worst of its records).
STATUSES = ("ok", "unsupported", "limit", "failed", "timeout", "crashed")
RUNTIME_ORDER = ("thread", "pool", "fiber", "boost-fiber", "go")
WORKLOAD_ORDER = ("spawn-million", "ping-pong", "context-switch-storm", "skynet", "memory-per-task")
STACK_POLICY_ORDER = ("pooled", "copy")
SUPPORTED_SCHEMA = 1


class ResultsError(Exception):
    """A results file that cannot be reported on; str(error) is a one-line message for the user."""


# The network workloads' figures (echo), kept per repetition for the throughput and latency charts.
NET_COUNTERS = ("round_trips_per_second", "latency_p50_ns", "latency_p90_ns", "latency_p99_ns", "latency_p999_ns",
                "latency_max_ns")
# blocking-syscall's and hog-latency's figures, kept per repetition for blocking_charts.py.
BLOCKING_COUNTERS = ("steps_per_second", "step_gap_p50_ns", "step_gap_p99_ns", "step_gap_max_ns", "lateness_p50_ns",
                     "lateness_p99_ns", "lateness_max_ns")
# deep-stack's figures beside its main one, kept per repetition for stack_charts.py.
DEEP_COUNTERS = ("rss_bytes_per_parked_task_after_gc", "peak_rss_bytes_per_task", "deep_ns_per_task")


def main_figure_name(workload: str) -> str:
    """main_figure_name is the counter each workload is judged by (the results format's 'main figure')."""
    return figure_of(workload).counter


def main_figure_unit(workload: str) -> str:
    """main_figure_unit is the unit of that counter: 'ns', 'bytes' or 'per_s' (units.FIGURES)."""
    return figure_of(workload).unit


def _order_key(value: str, order: tuple[str, ...]) -> tuple[int, str]:
    return (order.index(value) if value in order else len(order), value)


def status_severity(status: str) -> int:
    """status_severity ranks a status; unknown statuses rank above every known one."""
    return STATUSES.index(status) if status in STATUSES else len(STATUSES)


@dataclass(frozen=True)
class Series:
    """Series is one line or bar colour in every chart: a runtime, split by fiber stack policy."""

    runtime: str
    stack_policy: str | None = None

    @property
    def label(self) -> str:
        return f"{self.runtime} ({self.stack_policy})" if self.stack_policy else self.runtime

    @property
    def sort_key(self) -> tuple:
        return (_order_key(self.runtime, RUNTIME_ORDER), _order_key(self.stack_policy or "", STACK_POLICY_ORDER))


@dataclass
class Case:
    """Case is every record of one case_id: its identity, status, and the main figure per ok repetition."""

    case_id: str
    workload: str
    runtime: str
    stack_policy: str | None
    params: dict[str, int]
    workers: int | None
    status: str = "ok"
    reason: str = ""
    repetitions: int = 0
    values: list[float] = field(default_factory=list)
    aggregate_median: float | None = None
    counters: dict[str, list[float]] = field(default_factory=dict)  # NET_, BLOCKING_, DEEP_COUNTERS, ok reps

    def counter_median(self, name: str) -> float | None:
        """counter_median is the median of one counter over the ok repetitions, None when never recorded."""
        values = self.counters.get(name)
        return statistics.median(values) if values else None

    @property
    def series(self) -> Series:
        return Series(self.runtime, self.stack_policy)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.median is not None

    @property
    def median(self) -> float | None:
        if self.values:
            return statistics.median(self.values)
        return self.aggregate_median

    @property
    def noise(self) -> Noise:
        """noise: cv and the noisy/bimodal flags of the ok repetitions' main figure (noise.py)."""
        return noise_of(self.values)

    @property
    def minimum(self) -> float | None:
        return min(self.values) if self.values else self.aggregate_median

    @property
    def maximum(self) -> float | None:
        return max(self.values) if self.values else self.aggregate_median

    def dimension(self, name: str) -> int | None:
        """dimension is a param's value, or the worker count for name 'workers'."""
        return self.workers if name == "workers" else self.params.get(name)


@dataclass
class Results:
    """Results is one results file: its context and its cases, in file order."""

    path: Path
    context: dict
    cases: list[Case]
    skipped_records: int = 0

    @property
    def env(self) -> dict:
        env = self.context.get("env")
        return env if isinstance(env, dict) else {}

    @property
    def machine_label(self) -> str:
        parts = [str(p) for p in (self.context.get("host_name"), self.env.get("cpu_model")) if p]
        return " · ".join(parts) or "unknown machine"

    @property
    def date_label(self) -> str:
        date = str(self.context.get("date") or "unknown date")
        return date[:16].replace("T", " ") if len(date) >= 16 and date[10] == "T" else date

    @property
    def workloads(self) -> list[str]:
        return sorted({c.workload for c in self.cases}, key=lambda w: _order_key(w, WORKLOAD_ORDER))

    @property
    def series(self) -> list[Series]:
        return sorted({c.series for c in self.cases}, key=lambda s: s.sort_key)

    def cases_of(self, workload: str) -> list[Case]:
        return [c for c in self.cases if c.workload == workload]

    def status_counts(self) -> dict[tuple[Series, str], Counter]:
        """status_counts maps (series, workload) to how many cases ended in each status."""
        counts: dict[tuple[Series, str], Counter] = {}
        for case in self.cases:
            counts.setdefault((case.series, case.workload), Counter())[case.status] += 1
        return counts


def load(path: str | Path) -> Results:
    """load reads and checks a results file; it raises ResultsError for anything that is not Spindle JSON."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ResultsError(f"{path}: cannot read: {getattr(error, 'strerror', None) or error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultsError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    return parse(document, path)


def parse(document: object, path: Path) -> Results:
    """parse checks a decoded results document and groups its records into cases."""
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise ResultsError(f"{path}: not Spindle results (no 'benchmarks' array)")
    context = document.get("context")
    if not isinstance(context, dict) or "spindle_schema" not in context:
        raise ResultsError(f"{path}: not Spindle results (no context.spindle_schema; plain Google Benchmark output?)")
    schema = context["spindle_schema"]
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise ResultsError(f"{path}: context.spindle_schema is {schema!r}, expected a positive integer")
    cases: dict[str, Case] = {}
    aggregates: list[dict] = []
    case_of_run_name: dict[str, str] = {}
    skipped = 0
    for record in document["benchmarks"]:
        if not _is_spindle_record(record):
            skipped += 1
            continue
        if isinstance(record.get("main_figure"), str) and isinstance(record.get("main_figure_unit"), str):
            declare_figure(record["workload"], record["main_figure"], record["main_figure_unit"])
        if record.get("run_type") == "aggregate":
            aggregates.append(record)
            continue
        case = _case_for(record, cases)
        if isinstance(record.get("run_name"), str):
            case_of_run_name[record["run_name"]] = case.case_id
        _add_iteration(case, record)
    for record in aggregates:
        _add_aggregate(record, cases, case_of_run_name)
    if not cases:
        raise ResultsError(f"{path}: no Spindle records in 'benchmarks' (each needs workload and runtime)")
    return Results(path=path, context=context, cases=list(cases.values()), skipped_records=skipped)


def _is_spindle_record(record: object) -> bool:
    return (isinstance(record, dict) and isinstance(record.get("workload"), str)
            and isinstance(record.get("runtime"), str) and record["workload"] and record["runtime"])


def _case_id(record: dict) -> str:
    if isinstance(record.get("case_id"), str) and record["case_id"]:
        return record["case_id"]
    parts = [record["workload"], record["runtime"]]
    parts += [f"{k}:{v}" for k, v in sorted(_params(record).items())]
    if isinstance(record.get("workers"), int):
        parts.append(f"workers:{record['workers']}")
    if record.get("stack_policy"):
        parts.append(f"stack_policy:{record['stack_policy']}")
    return "/".join(parts)


def _params(record: dict) -> dict[str, int]:
    params = record.get("params")
    if not isinstance(params, dict):
        return {}
    return {str(k): v for k, v in params.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _case_for(record: dict, cases: dict[str, Case]) -> Case:
    case_id = _case_id(record)
    if case_id not in cases:
        workers = record.get("workers")
        cases[case_id] = Case(
            case_id=case_id, workload=record["workload"], runtime=record["runtime"],
            stack_policy=record.get("stack_policy") or None, params=_params(record),
            workers=workers if isinstance(workers, int) and not isinstance(workers, bool) else None)
    return cases[case_id]


def _record_status(record: dict) -> tuple[str, str]:
    status = record.get("status")
    reason = str(record.get("reason") or record.get("error_message") or "")
    if not isinstance(status, str) or not status:
        status = "failed" if record.get("error_occurred") else "ok"
    if status == "ok" and record.get("checksum_ok") is False:
        return "failed", "checksum mismatch (status ok but checksum_ok false)"
    return status, reason


def _main_figure(record: dict) -> float | None:
    value = record.get(main_figure_name(record["workload"]))
    if main_figure_name(record["workload"]) == "ns_per_op" and not isinstance(value, (int, float)):
        ops, real_time = record.get("ops"), record.get("real_time")
        if isinstance(ops, (int, float)) and ops > 0 and isinstance(real_time, (int, float)):
            value = real_time * _NS_PER_TIME_UNIT.get(record.get("time_unit", "ms"), 1e6) / ops
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return None
    return float(value)


_NS_PER_TIME_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def _add_iteration(case: Case, record: dict) -> None:
    status, reason = _record_status(record)
    if status_severity(status) > status_severity(case.status):
        case.status, case.reason = status, reason
    repetitions = record.get("repetitions")
    if isinstance(repetitions, int):
        case.repetitions = max(case.repetitions, repetitions)
    if status == "ok":
        value = _main_figure(record)
        if value is not None:
            case.values.append(value)
        for name in NET_COUNTERS + BLOCKING_COUNTERS + DEEP_COUNTERS:
            if isinstance(record.get(name), (int, float)) and not isinstance(record.get(name), bool):
                case.counters.setdefault(name, []).append(float(record[name]))


def _add_aggregate(record: dict, cases: dict[str, Case], case_of_run_name: dict[str, str]) -> None:
    if record.get("aggregate_name") != "median":
        return
    case_id = record.get("case_id") or case_of_run_name.get(record.get("run_name"))
    case = cases.get(case_id) if case_id else None
    if case is None:
        case = _case_for(record, cases)
    case.aggregate_median = _main_figure(record)
