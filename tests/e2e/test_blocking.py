"""End-to-end tests of blocking-syscall, hog-latency and fault-deadlock through the `spindle` CLI: real
processes, JSON parsed. Small runs only, and no timed assertion (lateness and gaps are what the runtime
shows; CI machines are loaded): checksums, counters present and ordered, statuses, exit codes, bad values.

The binary is $SPINDLE_BIN (default build/release/spindle)."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("SPINDLE_BIN", str(ROOT / "build" / "release" / "spindle"))
TEST_ENV = {"SPINDLE_TEST_WORKLOADS": "1"}
BLOCKING_SMALL = ["--param", "tasks=20", "--param", "blocking=2", "--param", "block-us=200", "--param", "steps=20",
                  "--param", "hold-ms=100"]
HOG_SMALL = ["--param", "hog-ms=20", "--param", "ticks=5"]


def spindle(*args, env_extra=None, timeout=120):
    env = dict(os.environ)
    env.pop("SPINDLE_TEST_WORKLOADS", None)
    env.update(env_extra or {})
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def iterations(stdout):
    return [r for r in json.loads(stdout)["benchmarks"] if r.get("run_type") == "iteration"]


def available(runtime):
    p = spindle("list", "--json")
    assert p.returncode == 0, p.stderr
    info = {r["name"]: r for r in json.loads(p.stdout)["runtimes"]}[runtime]
    return info["available"], info.get("unavailable_reason", "")


def require(runtime):
    ok, why = available(runtime)
    if not ok:
        pytest.skip(f"{runtime} unavailable on this machine: {why}")


@pytest.fixture(scope="module", autouse=True)
def binary_exists():
    if not os.access(BIN, os.X_OK):
        pytest.fail(f"{BIN} is not built (cmake --preset release && cmake --build build/release --target spindle)",
                    pytrace=False)


@pytest.mark.parametrize("runtime", ["thread", "fiber", "boost-fiber", "go"])
def test_blocking_syscall_small_checks_out_with_its_counters(runtime):
    require(runtime)
    p = spindle("run", "--runtime", runtime, "--workload", "blocking-syscall", *BLOCKING_SMALL,
                "--workers", 2, "--repetitions", 2)
    assert p.returncode == 0, p.stderr
    recs = iterations(p.stdout)
    assert len(recs) == 2
    for r in recs:
        assert r["status"] == "ok" and r["checksum_ok"] is True, r
        assert r["ops"] == 18 * 20 and r["tasks_created"] == 20
        assert r["steps_per_second"] > 0 and r["blocking_calls"] >= 2
        assert r["step_gap_p50_ns"] <= r["step_gap_p99_ns"] <= r["step_gap_max_ns"]


@pytest.mark.parametrize("runtime", ["thread", "pool", "fiber", "boost-fiber", "go"])
def test_hog_latency_small_checks_out_with_its_counters(runtime):
    require(runtime)
    p = spindle("run", "--runtime", runtime, "--workload", "hog-latency", *HOG_SMALL, "--workers", 2,
                "--repetitions", 1)
    assert p.returncode == 0, p.stderr
    (r,) = iterations(p.stdout)
    assert r["status"] == "ok" and r["checksum_ok"] is True, r
    assert r["ops"] == 5 and r["hogs"] == 2 and r["tasks_created"] == 3  # hogs=0: one per worker
    assert r["lateness_p50_ns"] <= r["lateness_p99_ns"] <= r["lateness_max_ns"]
    assert r["real_time"] >= 20  # the run lasts at least hog-ms: the hogs are inside it


def test_pool_cannot_run_blocking_syscall_and_says_why():
    p = spindle("run", "--runtime", "pool", "--workload", "blocking-syscall", *BLOCKING_SMALL, "--repetitions", 1)
    assert p.returncode == 2, p.stderr
    (r,) = json.loads(p.stdout)["benchmarks"]
    assert r["status"] == "unsupported" and "block in channel send/recv" in r["reason"]


@pytest.mark.parametrize("runtime", ["java-vthreads", "tokio"])
def test_peers_without_the_workloads_report_unsupported(runtime):
    require(runtime)
    for workload in ("blocking-syscall", "hog-latency"):
        p = spindle("run", "--runtime", runtime, "--workload", workload, "--repetitions", 1)
        assert p.returncode == 2, p.stderr
        (r,) = json.loads(p.stdout)["benchmarks"]
        assert r["status"] == "unsupported" and f"does not implement {workload}" in r["reason"]


@pytest.mark.parametrize("args, needles", [
    (["--workload", "blocking-syscall", "--param", "tasks=1"], ["tasks=1", "out of range", "2..100000"]),
    (["--workload", "blocking-syscall", "--param", "blocking=-1"], ["blocking=-1", "out of range"]),
    (["--workload", "blocking-syscall", "--param", "block-us=0"], ["block-us=0", "out of range"]),
    (["--workload", "blocking-syscall", "--param", "steps=1"], ["steps=1", "out of range"]),
    (["--workload", "blocking-syscall", "--param", "hold-ms=0"], ["hold-ms=0", "out of range"]),
    (["--workload", "blocking-syscall", "--param", "tasks=10", "--param", "blocking=10"],
     ["blocking=10 must be less than tasks=10"]),
    (["--workload", "hog-latency", "--param", "hog-ms=0"], ["hog-ms=0", "out of range"]),
    (["--workload", "hog-latency", "--param", "ticks=x"], ["ticks=x", "not an integer"]),
    (["--workload", "hog-latency", "--param", "hogs=2000"], ["hogs=2000", "out of range", "0..1024"]),
])
def test_bad_values_exit_2_naming_the_value(args, needles):
    p = spindle("run", "--runtime", "thread", *args, "--repetitions", 1)
    assert p.returncode == 2, (p.returncode, p.stderr)
    for n in needles:
        assert n in p.stderr, p.stderr


def test_fault_deadlock_is_hidden_without_the_test_switch():
    p = spindle("run", "--runtime", "thread", "--workload", "fault-deadlock", "--repetitions", 1)
    assert p.returncode == 2 and "unknown workload 'fault-deadlock'" in p.stderr


def test_go_deadlock_is_a_failed_record_with_the_go_runtime_reason():
    require("go")
    p = spindle("run", "--runtime", "go", "--workload", "fault-deadlock", "--param", "tasks=3", "--workers", 2,
                "--repetitions", 2, env_extra=TEST_ENV, timeout=120)
    assert p.returncode == 1, (p.returncode, p.stderr)
    recs = iterations(p.stdout)
    assert recs and recs[0]["status"] == "failed", recs
    assert "fatal error: all goroutines are asleep - deadlock!" in recs[0]["error_message"], recs[0]


def deadlock_sweep(tmp_path, runtime):
    path = tmp_path / "deadlock.json"
    path.write_text(json.dumps({
        "name": "deadlock", "repetitions": 1, "timeout_s": 2, "runtimes": [runtime], "workers": [2],
        "workloads": {"fault-deadlock": {"params": {"tasks": 3}}}}))
    out = tmp_path / "out.json"
    p = subprocess.run([BIN, "sweep", str(path), "--out", str(out)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, **TEST_ENV})
    return p, json.loads(out.read_text())


def test_thread_deadlock_is_a_timeout_under_a_sweep(tmp_path):
    p, doc = deadlock_sweep(tmp_path, "thread")
    assert p.returncode == 1, p.stderr
    statuses = {r["case_id"]: r["status"] for r in doc["benchmarks"]}
    assert statuses == {"fault-deadlock/thread/tasks:3/workers:2": "timeout"}, statuses


def test_fiber_deadlock_is_a_failed_record_naming_the_deadlock():
    p = spindle("run", "--runtime", "fiber", "--workload", "fault-deadlock", "--param", "tasks=3", "--workers", 2,
                "--repetitions", 1, env_extra=TEST_ENV, timeout=60)
    assert p.returncode == 1, (p.returncode, p.stderr)
    (r,) = iterations(p.stdout)
    assert r["status"] == "failed" and "all fibers are asleep" in r["error_message"] and "deadlock" in r["error_message"]
