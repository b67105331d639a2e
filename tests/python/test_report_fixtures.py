# The hand-made report fixtures (tests/fixtures/report_{small_multi_runtime,sweep_scaling,single_runtime}.json)
# and their generator: deterministic, shaped like docs/results-format.md. The test keeps the checked-in
# files equal to what this generates; `python tests/python/test_report_fixtures.py` rewrites them.
from __future__ import annotations

import json
import random
import statistics
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Typical main figures (ns per op; memory-per-task: RSS bytes per task), the shape real runs have.
TYPICAL = {
    "spawn-million": {"thread": 14000.0, "pool": 310.0, "fiber": 120.0, "boost-fiber": 420.0, "go": 260.0},
    "ping-pong": {"thread": 7800.0, "pool": 5200.0, "fiber": 180.0, "boost-fiber": 260.0, "go": 330.0},
    "context-switch-storm": {"thread": 2400.0, "fiber": 38.0, "boost-fiber": 55.0, "go": 115.0},
    "skynet": {"thread": 16000.0, "pool": 900.0, "fiber": 95.0, "boost-fiber": 380.0, "go": 240.0},
    "memory-per-task": {"thread": 12800.0, "pool": 9800.0, "fiber": 8600.0, "boost-fiber": 9200.0,
                        "go": 2750.0},
}
COPY_STACK_FACTOR = {"context-switch-storm": 4.5, "memory-per-task": 0.08}  # fiber stack_policy copy vs pooled
OPS = {"spawn-million": "tasks", "context-switch-storm": None, "skynet": "leaves", "memory-per-task": "tasks"}


def context(rng: random.Random, host: str, date: str, sweep: dict | None = None) -> dict:
    ctx = {
        "date": date, "host_name": host, "executable": "build/release/spindle", "num_cpus": 2,
        "mhz_per_cpu": 2450, "cpu_scaling_enabled": False, "caches": [], "load_avg": [0.21, 0.3, 0.28],
        "library_build_type": "release", "spindle_schema": 1,
        "env": {
            "cpu_model": "AMD EPYC 7B13", "cores": 2, "online_cpus": 2, "governor": "unknown",
            "virtualization": "kvm", "kernel": "Linux 6.1.0-28-cloud-amd64 x86_64", "memory_bytes": 8331055104,
            "compiler": "GNU 12.2.0", "cxx_flags": "-O2 -g -DNDEBUG", "build_type": "Release",
            "boost_version": "1.74.0", "benchmark_version": "1.7.1", "go_version": "go1.22.5",
            "git_revision": "d8d4212", "git_dirty": False, "load_avg_start": [0.21, 0.3, 0.28],
            "load_avg_end": [0.9, 0.45, 0.33], "max_map_count": 65530, "threads_max": 63455,
            "rlimit_nproc": 31727,
        },
    }
    if sweep:
        ctx["sweep"] = sweep
    return ctx


def ops_of(workload: str, params: dict) -> int:
    if workload == "ping-pong":
        return params["pairs"] * params["round-trips"]
    if workload == "context-switch-storm":
        return params["tasks"] * params["yields"]
    if workload == "skynet":
        leaves, total = params["leaves"], 0
        while leaves >= 1:
            total, leaves = total + leaves, leaves // 10
        return total
    return params["tasks"]


def case_id(workload: str, runtime: str, params: dict, workers: int, stack_policy: str | None) -> str:
    parts = [workload, runtime] + [f"{k}:{v}" for k, v in params.items()] + [f"workers:{workers}"]
    return "/".join(parts + ([f"stack_policy:{stack_policy}"] if stack_policy else []))


def base_record(workload, runtime, params, workers, stack_policy, repetitions, index) -> dict:
    cid = case_id(workload, runtime, params, workers, stack_policy)
    record = {"name": cid + "/manual_time", "run_name": cid + "/manual_time", "run_type": "iteration",
              "repetitions": repetitions, "repetition_index": index, "threads": 1, "iterations": 1,
              "real_time": 0.0, "cpu_time": 0.0, "time_unit": "ms", "case_id": cid, "runtime": runtime,
              "workload": workload, "params": dict(params), "workers": workers}
    if stack_policy:
        record["stack_policy"] = stack_policy
    return record


def ok_records(rng, workload, runtime, params, workers, stack_policy, repetitions, scale=1.0) -> list[dict]:
    """ok_records: `repetitions` iteration records around the typical figure, then the four aggregates."""
    figure = TYPICAL[workload][runtime] * scale
    if stack_policy == "copy":
        figure *= COPY_STACK_FACTOR.get(workload, 1.0)
    ops = ops_of(workload, params)
    records = []
    for index in range(repetitions):
        value = figure * rng.uniform(0.93, 1.09)
        record = base_record(workload, runtime, params, workers, stack_policy, repetitions, index)
        ns_per_op = value if workload != "memory-per-task" else rng.uniform(400, 900)
        real_ms = ns_per_op * ops / 1e6
        record.update({"real_time": real_ms, "cpu_time": real_ms * rng.uniform(0.9, 1.9), "status": "ok",
                       "checksum_ok": True, "tasks_created": ops if workload != "ping-pong" else 2 * params["pairs"]})
        if runtime == "go":
            record["go_version"] = "go1.22.5"
        counters = {"ops": ops, "ns_per_op": ns_per_op, "ops_per_second": 1e9 / ns_per_op,
                    "peak_rss_bytes": int(4e6 + ops * rng.uniform(50, 200)),
                    "voluntary_csw": rng.randint(10, 90000), "involuntary_csw": rng.randint(1, 900),
                    "user_cpu_s": real_ms / 1e3 * rng.uniform(0.5, 1.5), "sys_cpu_s": real_ms / 1e3 * 0.2}
        if workload == "memory-per-task":
            counters.update({"rss_bytes_per_task": value, "tasks_reached": params["tasks"],
                             "vm_bytes_per_task": value * 6.5, "mappings": rng.randint(40, 70)})
        record.update(counters)
        records.append(record)
    if repetitions > 1:
        records += aggregates(records)
    return records


def aggregates(records: list[dict]) -> list[dict]:
    numeric = [k for k, v in records[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)
               and k not in ("repetitions", "repetition_index", "threads", "iterations", "workers", "tasks_created")]
    out = []
    for name in ("mean", "median", "stddev", "cv"):
        record = {k: v for k, v in records[0].items() if k not in numeric and k != "repetition_index"}
        record.update({"name": records[0]["run_name"] + "_" + name, "run_type": "aggregate",
                       "aggregate_name": name, "aggregate_unit": "percentage" if name == "cv" else "time",
                       "iterations": len(records)})
        for key in numeric:
            values = [r[key] for r in records]
            mean = statistics.fmean(values)
            record[key] = {"mean": mean, "median": statistics.median(values),
                           "stddev": statistics.stdev(values),
                           "cv": statistics.stdev(values) / mean if mean else 0.0}[name]
        out.append(record)
    return out


def failed_record(workload, runtime, params, workers, stack_policy, repetitions, status, reason,
                  sweep=False, signal=None) -> list[dict]:
    record = base_record(workload, runtime, params, workers, stack_policy, repetitions, 0)
    record.update({"iterations": 0, "error_occurred": True, "error_message": reason, "status": status,
                   "reason": reason, "checksum_ok": False, "tasks_created": 0})
    if signal is not None:
        record["signal"] = signal
    if sweep:
        record["stderr_tail"] = f"spindle: {reason}\n"
    return [record]


SMALL_PARAMS = {"spawn-million": {"tasks": 100000}, "ping-pong": {"pairs": 1, "round-trips": 100000},
                "context-switch-storm": {"tasks": 1000, "yields": 1000}, "skynet": {"leaves": 100000},
                "memory-per-task": {"tasks": 10000}}


def small_multi_runtime() -> dict:
    """(a) every runtime and workload once, 5 repetitions with aggregates; pool has no yield and its blocked
    channel receives deadlock a tree, so two of its cases are unsupported."""
    rng = random.Random(6001)
    records = []
    for workload, params in SMALL_PARAMS.items():
        for runtime in ("thread", "pool", "fiber", "boost-fiber", "go"):
            workers = 2
            policies = ["pooled", "copy"] if runtime == "fiber" and workload in COPY_STACK_FACTOR else \
                ["pooled"] if runtime == "fiber" else [None]
            for policy in policies:
                if runtime == "pool" and workload in ("context-switch-storm", "skynet"):
                    why = ("pool has no yield (capability yield missing)" if workload == "context-switch-storm"
                           else "skynet blocks pool threads in channel receives: deadlock beyond 2 workers")
                    records += failed_record(workload, runtime, params, workers, policy, 5, "unsupported", why)
                else:
                    records += ok_records(rng, workload, runtime, params, workers, policy, 5)
    return {"context": context(rng, "bench-box", "2026-12-01T20:30:00+00:00"), "benchmarks": records}


def sweep_scaling() -> dict:
    """(b) a sweep: spawn-million over tasks (thread hits the thread limit at 1M), skynet over workers
    (speedup), ping-pong over pairs, memory-per-task over tasks, with every non-ok status a sweep has."""
    rng = random.Random(6002)
    records = []
    for tasks in (1000, 10000, 100000, 1000000):
        for runtime in ("thread", "fiber", "go"):
            params = {"tasks": tasks}
            if runtime == "thread" and tasks == 1000000:
                records += failed_record("spawn-million", "thread", params, 2, None, 3, "limit",
                                         "1000000 threads exceed kernel.threads-max 63455", sweep=True)
                continue
            records += ok_records(rng, "spawn-million", runtime, params, 2, "pooled" if runtime == "fiber" else None,
                                  3, scale=1.0 + 0.15 * len(str(tasks)))
    for workers in (1, 2, 4):
        for runtime in ("fiber", "go", "boost-fiber"):
            params = {"leaves": 100000}
            policy = "pooled" if runtime == "fiber" else None
            if runtime == "boost-fiber" and workers == 4:
                records += failed_record("skynet", runtime, params, workers, policy, 3, "timeout",
                                         "case exceeded its 120 s timeout", sweep=True)
                continue
            records += ok_records(rng, "skynet", runtime, params, workers, policy, 3,
                                  scale=1.0 / min(workers, 2) ** 0.85 * (1.08 if workers == 4 else 1.0))
    records += failed_record("skynet", "thread", {"leaves": 100000}, 2, None, 3, "crashed",
                             "killed by signal 9 (SIGKILL)", sweep=True, signal=9)
    for pairs in (1, 2, 4):
        for runtime in ("pool", "fiber", "go"):
            params = {"pairs": pairs, "round-trips": 10000}
            policy = "pooled" if runtime == "fiber" else None
            if runtime == "pool" and pairs > 1:
                records += failed_record("ping-pong", runtime, params, 2, policy, 3, "unsupported",
                                         "pairs > workers/2 would block every pool thread in a receive",
                                         sweep=True)
                continue
            records += ok_records(rng, "ping-pong", runtime, params, 2, policy, 3, scale=1.0 + 0.05 * pairs)
    for tasks in (1000, 10000, 100000):
        for runtime, policy in (("thread", None), ("fiber", "pooled"), ("fiber", "copy"), ("boost-fiber", None),
                                ("go", None)):
            params = {"tasks": tasks}
            if runtime == "boost-fiber" and tasks == 100000:
                records += failed_record("memory-per-task", runtime, params, 2, policy, 3, "failed",
                                         "checksum mismatch: 99871 of 100000 tasks parked", sweep=True)
                continue
            records += ok_records(rng, "memory-per-task", runtime, params, 2, policy, 3,
                                  scale=1.0 + 0.2 / len(str(tasks)))
    sweep = {"name": "report-fixture", "file": "harness/sweeps/report-fixture.json", "hash": "sha256:" + "0" * 64}
    return {"context": context(rng, "sweep-box", "2026-12-02T08:15:42+00:00", sweep), "benchmarks": records}


def single_runtime() -> dict:
    """(c) fiber only, one repetition (so no aggregates), no Go, no skynet."""
    rng = random.Random(6003)
    records = []
    for workload in ("spawn-million", "ping-pong", "context-switch-storm", "memory-per-task"):
        records += ok_records(rng, workload, "fiber", SMALL_PARAMS[workload], 2, "pooled", 1)
    return {"context": context(rng, "laptop", "2026-12-03T11:02:00+01:00"), "benchmarks": records}


GENERATED = {"report_small_multi_runtime.json": small_multi_runtime, "report_sweep_scaling.json": sweep_scaling,
             "report_single_runtime.json": single_runtime}


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def rendered(name: str) -> str:
    """rendered is the fixture's file text: floats to 6 significant digits, one record per line."""
    document = _rounded(GENERATED[name]())
    records = ",\n".join("  " + json.dumps(r) for r in document["benchmarks"])
    return f'{{"context": {json.dumps(document["context"], indent=1)},\n"benchmarks": [\n{records}\n]}}\n'


def test_checked_in_fixtures_match_their_generator():
    for name in GENERATED:
        assert (FIXTURES / name).read_text() == rendered(name), f"regenerate {name}: python {__file__}"


if __name__ == "__main__":
    for fixture_name in GENERATED:
        (FIXTURES / fixture_name).write_text(rendered(fixture_name))
        print(FIXTURES / fixture_name, file=sys.stderr)
