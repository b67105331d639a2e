# The JSON fixtures of the compare tests (tests/fixtures/compare_*.json), their generator, and helpers the
# other test_compare*/test_history* files import. Regenerate with:
#   .venv/bin/python tests/python/test_compare_fixtures.py
# The test below fails when a checked-in fixture no longer matches its generator.
import contextlib
import io
import json
import math
import random
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SCRIPTS = REPO_ROOT / "scripts"
sys.path.insert(0, str(SCRIPTS))

REPETITIONS = 10
ENV = {
    "cpu_model": "AMD EPYC 7B13", "cores": 2, "online_cpus": 2, "governor": "unknown",
    "virtualization": "kvm", "kernel": "Linux 6.1.0 x86_64", "memory_bytes": 8_000_000_000,
    "compiler": "GNU 12.2.0", "cxx_flags": "-O2", "build_type": "Release", "boost_version": "1.74.0",
    "benchmark_version": "1.7.1", "go_version": "go1.22.5", "git_revision": "1111111", "git_dirty": False,
}
# (workload, runtime, params, stack_policy, true main figure): ns/op, or bytes/task for memory-per-task.
CASES = [
    ("spawn-million", "thread", {"tasks": 100000}, None, 14500.0),
    ("spawn-million", "pool", {"tasks": 100000}, None, 310.0),
    ("spawn-million", "fiber", {"tasks": 100000}, "pooled", 118.0),
    ("spawn-million", "fiber", {"tasks": 100000}, "copy", 171.0),
    ("spawn-million", "go", {"tasks": 100000}, None, 246.0),
    ("ping-pong", "pool", {"pairs": 4, "round-trips": 100000}, None, None),   # unsupported
    ("ping-pong", "fiber", {"pairs": 1, "round-trips": 100000}, "pooled", 252.0),
    ("ping-pong", "go", {"pairs": 1, "round-trips": 100000}, None, 348.0),
    ("context-switch-storm", "fiber", {"tasks": 1000, "yields": 1000}, "pooled", 41.0),
    ("context-switch-storm", "go", {"tasks": 1000, "yields": 1000}, None, 112.0),
    ("skynet", "fiber", {"leaves": 100000}, "pooled", 149.0),
    ("skynet", "go", {"leaves": 100000}, None, 221.0),
    ("memory-per-task", "fiber", {"tasks": 10000}, "pooled", 8530.0),
    ("memory-per-task", "go", {"tasks": 10000}, None, 2790.0),
]


def case_id(workload, runtime, params, stack_policy, workers=2):
    parts = [workload, runtime] + [f"{k}:{v}" for k, v in params.items()] + [f"workers:{workers}"]
    return "/".join(parts + ([f"stack_policy:{stack_policy}"] if stack_policy else []))


def ops_of(workload, params):
    return {"spawn-million": params.get("tasks", 0), "ping-pong": params.get("pairs", 1) * params.get(
        "round-trips", 0), "context-switch-storm": params.get("tasks", 0) * params.get("yields", 0),
        "skynet": int(params.get("leaves", 0) * 1.111111),
        "memory-per-task": params.get("tasks", 0)}[workload]


def noisy(rng: random.Random, true_value: float, sigma: float) -> float:
    """A shared-runner repetition: lognormal jitter, and one in ten disturbed by a noisy neighbour."""
    value = true_value * math.exp(rng.gauss(0.0, sigma))
    if rng.random() < 0.1:
        value *= 1.0 + rng.uniform(0.05, 0.25)
    return value


def case_records(rng, workload, runtime, params, stack_policy, true_value, status="ok", reps=REPETITIONS):
    cid = case_id(workload, runtime, params, stack_policy)
    name = cid.removesuffix(f"/stack_policy:{stack_policy}") if stack_policy else cid
    common = {"run_name": f"{name}/manual_time", "case_id": cid, "runtime": runtime, "workload": workload,
              "params": params, "workers": 2, "time_unit": "ms", "threads": 1}
    if stack_policy:
        common["stack_policy"] = stack_policy
    if status != "ok":
        record = {"name": f"{name}/manual_time", **common, "run_type": "iteration", "repetitions": reps,
                  "repetition_index": 0, "iterations": 0, "real_time": 0, "cpu_time": 0,
                  "status": status, "error_occurred": True}
        record["reason"] = {"unsupported": "pool thread blocked in a channel receive deadlocks once "
                                           "pairs > workers/2",
                            "crashed": "killed by signal 11 (SIGSEGV)"}[status]
        record["error_message"] = record["reason"]
        if status == "crashed":
            record["signal"] = 11
            record["stderr_tail"] = "Segmentation fault"
        return [record]
    ops = ops_of(workload, params)
    memory = workload == "memory-per-task"
    records = []
    for index in range(reps):
        figure = round(noisy(rng, true_value, 0.004 if memory else 0.03), 3)
        real_ms = round((ops * 40.0 if memory else figure * ops) / 1e6, 4)
        record = {"name": f"{name}/manual_time", **common, "run_type": "iteration", "repetitions": reps,
                  "repetition_index": index, "iterations": 1, "real_time": real_ms,
                  "cpu_time": round(real_ms * 1.7, 4), "status": "ok", "checksum_ok": True,
                  "tasks_created": params.get("tasks", ops), "ops": ops,
                  "ns_per_op": round(real_ms * 1e6 / ops, 3),
                  "ops_per_second": round(ops / (real_ms / 1e3), 1),
                  "peak_rss_bytes": int(40e6 + rng.uniform(0, 1e6)),
                  "voluntary_csw": rng.randint(10, 500), "involuntary_csw": rng.randint(0, 50)}
        if memory:
            record.update(rss_bytes_per_task=figure, tasks_reached=params["tasks"],
                          vm_bytes_per_task=round(figure * 3.1, 1), mappings=rng.randint(200, 400))
        records.append(record)
    times = sorted(r["real_time"] for r in records)
    mean = sum(times) / reps
    stddev = math.sqrt(sum((t - mean) ** 2 for t in times) / (reps - 1))
    median = (times[reps // 2 - 1] + times[reps // 2]) / 2
    for aggregate, value, unit in (("mean", mean, "time"), ("median", median, "time"),
                                   ("stddev", stddev, "time"), ("cv", stddev / mean, "percentage")):
        records.append({"name": f"{name}/manual_time_{aggregate}", **common, "run_type": "aggregate",
                        "aggregate_name": aggregate, "aggregate_unit": unit, "repetitions": reps,
                        "iterations": reps, "real_time": round(value, 6), "cpu_time": round(value, 6),
                        "status": "ok"})
    return records


def results_document(seed, *, factor=lambda cid: 1.0, env=None, drop=(), add=(), crashed=(), reps=REPETITIONS,
                     spindle=True, revision="2222222"):
    """A whole results file: CASES minus `drop`, plus `add` (same tuple shape), true figures times
    factor(case_id), cases in `crashed` crashing."""
    rng = random.Random(seed)
    records = []
    for workload, runtime, params, stack_policy, true_value in [*CASES, *add]:
        cid = case_id(workload, runtime, params, stack_policy)
        if cid in drop:
            continue
        status = "unsupported" if true_value is None else "crashed" if cid in crashed else "ok"
        value = true_value * factor(cid) if true_value else None
        records += case_records(rng, workload, runtime, params, stack_policy, value, status, reps)
    context = {"date": "2026-12-01T20:30:00+00:00", "host_name": "ci-runner", "executable":
               "build/release/spindle", "num_cpus": 2, "mhz_per_cpu": 2450, "cpu_scaling_enabled": False,
               "caches": [], "load_avg": [0.4, 0.3, 0.2], "library_build_type": "release"}
    if spindle:
        context["spindle_schema"] = 1
        context["env"] = {**ENV, "git_revision": revision, **(env or {})}
        context["sweep"] = {"name": "quick", "file": "harness/sweeps/quick.json", "hash": "sha256:0"}
    return {"context": context, "benchmarks": records}


def is_fiber(cid):
    return cid.split("/")[1] == "fiber"


ALL_CASE_IDS = [case_id(w, r, p, s) for w, r, p, s, _ in CASES]
FIBER_CASE_IDS = [cid for cid in ALL_CASE_IDS if is_fiber(cid)]
FIBER_TIME_CASE_IDS = [cid for cid in FIBER_CASE_IDS if not cid.startswith("memory-per-task/")]
SKYNET_BIG = ("skynet", "fiber", {"leaves": 1000000}, "pooled", 152.0)


def fixture_documents() -> dict[str, dict]:
    """Every fixture by file name. Seeds differ so every file has its own noise."""
    return {
        "compare_base.json": results_document(1, revision="1111111"),
        "compare_noise.json": results_document(2),                              # A/A: same truth
        "compare_fiber_slower.json": results_document(            # fiber times 30% slower, memory same
            3, factor=lambda c: 1.30 if c in FIBER_TIME_CASE_IDS else 1.0),
        "compare_fiber_faster.json": results_document(
            4, factor=lambda c: 0.80 if c.startswith(("ping-pong/fiber", "skynet/fiber")) else 1.0),
        "compare_cases_changed.json": results_document(5, drop={"skynet/go/leaves:100000/workers:2"},
                                                        add=[SKYNET_BIG]),
        "compare_crashed.json": results_document(
            6, crashed={"spawn-million/fiber/tasks:100000/workers:2/stack_policy:pooled"}),
        "compare_other_machine.json": results_document(
            7, env={"cpu_model": "Intel Xeon Platinum 8375C", "compiler": "Clang 15.0.6"}),
        "compare_not_spindle.json": results_document(8, spindle=False, drop=set(ALL_CASE_IDS[2:])),
        "compare_disjoint.json": results_document(9, drop=set(ALL_CASE_IDS), add=[SKYNET_BIG]),
    }


def render(document: dict) -> str:
    """Compact but diffable: one record per line."""
    records = ",\n  ".join(json.dumps(record, separators=(",", ":")) for record in document["benchmarks"])
    return f'{{"context": {json.dumps(document["context"])},\n "benchmarks": [\n  {records}\n ]}}\n'


def run_script(name: str, *args, cwd=REPO_ROOT, env=None) -> subprocess.CompletedProcess:
    """Run scripts/<name> with this interpreter; returns the completed process (text output)."""
    return subprocess.run([sys.executable, str(SCRIPTS / name), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def run_main_in_process(main, *args) -> subprocess.CompletedProcess:
    """Call a script's main(argv) here, capturing what it prints: the same contract as run_script without
    paying for a fresh interpreter and scipy import per call."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(list(map(str, args)))
        except SystemExit as exit_:   # argparse errors
            code = exit_.code
    return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())


def fixture(name: str) -> Path:
    return FIXTURES / name


def test_fixtures_match_their_generator():
    for name, document in fixture_documents().items():
        assert (FIXTURES / name).read_text() == render(document), f"{name} is stale: regenerate it"


if __name__ == "__main__":
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, document in fixture_documents().items():
        (FIXTURES / name).write_text(render(document))
        print(f"wrote {FIXTURES / name}")
