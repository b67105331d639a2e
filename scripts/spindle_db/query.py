# Reading the results database back: the series of every machine × case × figure (one median per run, in
# time order) for scripts/history and the trend charts, a run as a results document for scripts/compare and
# scripts/report, and the listings of scripts/db.
import json
from dataclasses import dataclass, field

from .store import Database, DatabaseError


@dataclass
class Series:
    """Series: one machine fingerprint × one case × one figure: per run (in time order) its median."""
    machine: str
    fingerprint: str
    case_id: str
    metric: str
    run_ids: list = field(default_factory=list)
    revisions: list = field(default_factory=list)
    dates: list = field(default_factory=list)
    values: list = field(default_factory=list)


def machine_filter(machine: str | None) -> tuple[str, tuple]:
    """machine_filter: an SQL condition on machine m for a name or a fingerprint (prefix), or none."""
    if not machine:
        return "", ()
    return " AND (m.name = ? OR m.fingerprint LIKE ?)", (machine, machine + "%")


def all_series(db: Database, machine: str | None = None) -> list[Series]:
    """all_series: every series with an ok median, ordered by machine, case and run time."""
    condition, parameters = machine_filter(machine)
    runs_by_id = {run_id: (machine_id, revision, date) for run_id, machine_id, revision, date in db.execute(
        "SELECT run.id, run.machine_id, g.revision, run.started_at FROM run JOIN machine m ON m.id = run.machine_id "
        "JOIN git_commit g ON g.id = run.commit_id WHERE 1 = 1" + condition, parameters)}
    machine_names = {row[0]: (row[1], row[2]) for row in db.execute("SELECT id, name, fingerprint FROM machine")}
    case_names = dict(db.execute("SELECT id, case_id FROM bench_case").fetchall())
    # One narrow query (ids and numbers only), ordered by run time through the run table; names are joined here.
    rows = db.execute("SELECT r.run_id, r.case_id, r.metric, r.median FROM result r JOIN run ON run.id = r.run_id "
                      "WHERE r.status = 'ok' AND r.median IS NOT NULL ORDER BY run.started_at, run.id").fetchall()
    by_key: dict[tuple, Series] = {}
    for run_id, case_row, metric, median in rows:
        run = runs_by_id.get(run_id)
        if run is None:
            continue
        machine_id, revision, date = run
        key = (machine_id, case_row, metric)
        current = by_key.get(key)
        if current is None:
            name, fingerprint = machine_names[machine_id]
            current = by_key[key] = Series(name, fingerprint, case_names[case_row], metric)
        current.run_ids.append(run_id)
        current.revisions.append(revision)
        current.dates.append(date)
        current.values.append(float(median))
    return sorted(by_key.values(), key=lambda s: (s.machine, s.fingerprint, s.case_id, s.metric))


def machines(db: Database) -> list[tuple]:
    """machines: (name, fingerprint, cpu model, cores, memory bytes, kernel, virtualization, runs)."""
    return db.execute(
        "SELECT m.name, m.fingerprint, m.cpu_model, m.cores, m.memory_bytes, m.kernel, m.virtualization, "
        "COUNT(run.id) FROM machine m LEFT JOIN run ON run.machine_id = m.id "
        "GROUP BY m.id, m.name, m.fingerprint, m.cpu_model, m.cores, m.memory_bytes, m.kernel, m.virtualization "
        "ORDER BY m.name, m.fingerprint").fetchall()


def runs(db: Database, machine: str | None = None, limit: int = 50) -> list[tuple]:
    """runs: the latest runs, newest first: (id, machine, revision, time, sweep, shard, source, cases, ok)."""
    condition, parameters = machine_filter(machine)
    return db.execute(
        "SELECT run.id, m.name, g.revision, run.started_at, run.sweep_name, run.shard, run.source, "
        "COUNT(r.id), SUM(CASE WHEN r.status = 'ok' THEN 1 ELSE 0 END) "
        "FROM run JOIN machine m ON m.id = run.machine_id JOIN git_commit g ON g.id = run.commit_id "
        "LEFT JOIN result r ON r.run_id = run.id WHERE 1 = 1" + condition +
        " GROUP BY run.id, m.name, g.revision, run.started_at, run.sweep_name, run.shard, run.source "
        "ORDER BY run.started_at DESC, run.id DESC LIMIT ?", (*parameters, limit)).fetchall()


def resolve_run(db: Database, selector: str, machine: str | None = None) -> int:
    """resolve_run: a run id ('17'), 'latest', or a git revision prefix (the latest run of that commit);
    with `machine`, only that machine's runs. Raises DatabaseError naming the selector."""
    condition, parameters = machine_filter(machine)
    base = ("SELECT run.id, m.name FROM run JOIN machine m ON m.id = run.machine_id "
            "JOIN git_commit g ON g.id = run.commit_id WHERE ")
    if selector.isdigit():
        rows = db.execute(base + "run.id = ?" + condition, (int(selector), *parameters)).fetchall()
    elif selector == "latest":
        rows = db.execute(base + "1 = 1" + condition + " ORDER BY run.started_at DESC, run.id DESC LIMIT 1",
                          parameters).fetchall()
    else:
        rows = db.execute(base + "g.revision LIKE ?" + condition + " ORDER BY run.started_at DESC, run.id DESC",
                          (selector + "%", *parameters)).fetchall()
        if len({name for _, name in rows}) > 1:
            raise DatabaseError(f"run {selector!r}: runs of several machines ({', '.join(sorted({n for _, n in rows}))});"
                                f" name one with --machine")
    if not rows:
        raise DatabaseError(f"run {selector!r}: no such run in the database"
                            + (f" for machine {machine!r}" if machine else "") +
                            " (a run id, 'latest' or a git revision prefix; see `scripts/db runs`)")
    return rows[0][0]


def run_document(db: Database, run_id: int) -> dict:
    """run_document: a stored run as Spindle results JSON (docs/results-format.md): its context, and per
    case one iteration record per stored repetition (its counters and status) or the case's status record."""
    row = db.execute("SELECT context FROM run WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise DatabaseError(f"run {run_id}: no such run")
    context = json.loads(row[0])
    context.setdefault("spindle_schema", 1)
    records = []
    for case_id, workload, runtime, params, workers, stack_policy, metric, status, reason, samples, repetitions \
            in db.execute("SELECT c.case_id, c.workload, c.runtime, c.params, c.workers, c.stack_policy, r.metric, "
                          "r.status, r.reason, r.samples, r.repetitions FROM result r "
                          "JOIN bench_case c ON c.id = r.case_id WHERE r.run_id = ? ORDER BY r.id", (run_id,)):
        base = {"name": case_id, "run_name": case_id, "run_type": "iteration", "case_id": case_id,
                "workload": workload, "runtime": runtime, "params": json.loads(params)}
        if workers is not None:
            base["workers"] = workers
        if stack_policy:
            base["stack_policy"] = stack_policy
        stored = json.loads(repetitions) if repetitions else [{metric: value, "status": "ok"}
                                                              for value in json.loads(samples)]
        if not stored:
            stored = [{"status": status}]
        for index, repetition in enumerate(stored):
            record = dict(base, **repetition, repetition_index=index)
            if record.get("status") != "ok" and reason:
                record["reason"] = reason
            records.append(record)
    return {"context": context, "benchmarks": records}


def history_document(db: Database, machine: str | None = None) -> dict:
    """history_document: the database's ok medians in the history-file shape (spindle_compare.history) that
    the trend charts read: one entry per run in time order. With several machines, each case key is
    '<machine>/<case id>', so no series mixes machines."""
    series = all_series(db, machine)
    several = len({(s.machine, s.fingerprint) for s in series}) > 1
    by_run: dict[int, dict] = {}
    for s in series:
        key = f"{s.machine}/{s.case_id}" if several else s.case_id
        for run_id, revision, date, value in zip(s.run_ids, s.revisions, s.dates, s.values):
            entry = by_run.setdefault(run_id, {"git_revision": revision, "date": date, "machine": s.machine,
                                               "medians": {}, "metrics": {}, "run_id": run_id})
            entry["medians"][key] = value
            entry["metrics"][key] = s.metric
    return {"spindle_history": 1, "runs": sorted(by_run.values(), key=lambda e: (e["date"], e["run_id"]))}
