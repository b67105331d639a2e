# Importing into the results database: Spindle results files (one machine, or a `spindle merge` of several,
# split into one run per machine) and today's history file (scripts/history's results/history.json, which
# kept only medians: each becomes a one-sample result). Raises ImportError_ with one printable line.
import json
import re
from pathlib import Path

from spindle_compare.history import load_history
from spindle_compare.matching import ResultsError, case_id_of, main_metric, metric_value

from .machine import fingerprint_text, machine_identity
from .store import CaseResult, Database, digest_of, store_run, utc_time

# Iteration-record numbers that describe the run rather than measure it: not kept per repetition.
_NOT_MEASURED = {"family_index", "per_family_instance_index", "repetitions", "repetition_index", "threads",
                 "iterations", "workers"}


def revision_of(context: dict) -> str:
    """revision_of: context.env.git_revision shortened to 12 digits, '-dirty' when git_dirty (as
    spindle_compare.matching.Results.git_revision)."""
    env = context.get("env") if isinstance(context.get("env"), dict) else {}
    revision = str(env.get("git_revision", "") or "")[:12]
    return revision + ("-dirty" if env.get("git_dirty") else "") if revision else "unknown"


def _case_fields(record: dict, case_id: str) -> dict:
    params = record.get("params") if isinstance(record.get("params"), dict) else {}
    workers = record.get("workers")
    return {"workload": str(record.get("workload") or case_id.split("/")[0]),
            "runtime": str(record.get("runtime") or (case_id.split("/") + [""])[1]),
            "params": params, "workers": workers if isinstance(workers, int) else None,
            "stack_policy": record.get("stack_policy") or None}


def case_results(records: list[dict]) -> list[CaseResult]:
    """case_results: the iteration records of one run grouped by case: status (the first that is not ok),
    the main figure of every ok repetition, and every repetition's measured numbers."""
    cases: dict[str, CaseResult] = {}
    for record in records:
        if not isinstance(record, dict) or record.get("run_type", "iteration") != "iteration":
            continue
        case_id = case_id_of(record)
        if not case_id:
            continue
        case = cases.get(case_id)
        if case is None:
            fields = _case_fields(record, case_id)
            case = cases[case_id] = CaseResult(case_id, metric=main_metric(fields["workload"]), samples=[],
                                               repetitions=[], **fields)
        status = str(record.get("status") or ("failed" if record.get("error_occurred") else "ok"))
        value = metric_value(record, case.metric) if status == "ok" else None
        if status == "ok" and value is not None:
            case.samples.append(value)
        elif case.status == "ok":
            case.status = status if status != "ok" else "failed"
            case.reason = str(record.get("reason") or record.get("error_message") or f"no {case.metric}")
        case.repetitions.append({key: value for key, value in record.items()
                                 if isinstance(value, (int, float)) and not isinstance(value, bool)
                                 and key not in _NOT_MEASURED} | {"status": status})
    return list(cases.values())


def _read_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except OSError as error:
        raise ResultsError(f"{path}: cannot read ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise ResultsError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None


def import_results(db: Database, path: Path) -> list[tuple[str, int | None, int]]:
    """import_results: stores one results file; returns (machine name, run id or None when already stored,
    case count) per machine in it."""
    document = _read_json(path)
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list) \
            or not isinstance(document.get("context"), dict) or "spindle_schema" not in document["context"]:
        raise ResultsError(f"{path}: not Spindle results JSON (no context.spindle_schema and benchmarks)")
    context = document["context"]
    machines = context.get("machines") if isinstance(context.get("machines"), list) else None
    if not machines:
        machines = [machine_identity(context)]
    outcome = []
    for machine in machines:
        fingerprint = machine.get("fingerprint")
        records = [r for r in document["benchmarks"] if len(machines) == 1
                   or (isinstance(r, dict) and r.get("machine_fingerprint") == fingerprint)]
        machine_context = dict(context)
        machine_context.pop("machines", None)
        if isinstance(machine.get("env"), dict):
            machine_context["env"] = machine["env"]
        machine_context["machine"] = {k: v for k, v in machine.items() if k not in ("env",)}
        cases = case_results(records)
        if not cases:
            raise ResultsError(f"{path}: no Spindle iteration records for machine {machine.get('name')}")
        date = str(machine.get("date") or context.get("date") or "")
        run_id = store_run(db, machine=machine | {"facts": {k: v for k, v in (machine_context.get("env") or {}).items()
                                                            if k not in ("load_avg_start", "load_avg_end")}},
                           revision=revision_of(machine_context), context=machine_context,
                           started_at=utc_time(date), source=str(path),
                           digest=digest_of(fingerprint, records), cases=cases)
        outcome.append((str(machine.get("name")), run_id, len(cases)))
    return outcome


_CASE_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):(.*)$")


def case_from_id(case_id: str, metric: str) -> CaseResult:
    """case_from_id: the case fields a case id spells (workload/runtime/param:value.../workers:N[/stack_policy:P])."""
    parts = case_id.split("/")
    params, workers, stack_policy = {}, None, None
    for part in parts[2:]:
        match = _CASE_PART.match(part)
        if not match:
            continue
        key, value = match.groups()
        if key == "workers":
            workers = int(value) if value.isdigit() else None
        elif key == "stack_policy":
            stack_policy = value
        else:
            params[key] = int(value) if value.isdigit() else value
    return CaseResult(case_id, parts[0], parts[1] if len(parts) > 1 else "", params, workers, stack_policy, metric)


def import_history_file(db: Database, path: Path) -> tuple[int, int]:
    """import_history_file: every run of a history file (scripts/history add); returns (stored, already
    there). The file kept no fingerprint: its machine is named after the CPU model, fingerprinted from it."""
    history = load_history(Path(path))
    if not Path(path).exists():
        raise ResultsError(f"{path}: no such history file")
    stored = skipped = 0
    for entry in history["runs"]:
        cpu_model = str(entry.get("cpu_model") or "")
        context = {"env": {"cpu_model": cpu_model, "git_revision": entry.get("git_revision")},
                   "date": entry.get("date"), "sweep": {"name": entry.get("sweep")}, "spindle_schema": 1,
                   "imported_from_history": str(path)}
        machine = machine_identity({"env": {"cpu_model": cpu_model}})
        machine["name"] = f"history:{cpu_model or 'unknown'}"
        machine["facts"] = {"fingerprint_text": fingerprint_text({"env": {"cpu_model": cpu_model}})}
        metrics = entry.get("metrics") or {}
        cases = []
        for case_id, median in sorted((entry.get("medians") or {}).items()):
            case = case_from_id(case_id, metrics.get(case_id) or main_metric(case_id.split("/")[0]))
            case.samples = [float(median)]
            cases.append(case)
        run_id = store_run(db, machine=machine, revision=str(entry.get("git_revision") or "unknown"),
                           context=context, started_at=utc_time(str(entry.get("date") or "")),
                           source=str(entry.get("source") or path), digest=digest_of("history", entry),
                           cases=cases)
        stored, skipped = (stored + 1, skipped) if run_id else (stored, skipped + 1)
    return stored, skipped
