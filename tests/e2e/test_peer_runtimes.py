"""End-to-end tests of the external runtimes `java-vthreads` and `tokio` through the one external-runtime
adapter (docs/external-runtimes.md): real processes, JSON parsed. A runtime whose toolchain was missing at
build time is skipped, naming why.

The binary is $SPINDLE_BIN (default build/release/spindle)."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("SPINDLE_BIN", str(ROOT / "build" / "release" / "spindle"))
PEERS = {"java-vthreads": "java_version", "tokio": "tokio_version"}


def spindle(*args, env_extra=None, timeout=300):
    env = dict(os.environ)
    env.pop("SPINDLE_TEST_WORKLOADS", None)
    env.update(env_extra or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, env=env)


def runtimes():
    p = spindle("list", "--json")
    assert p.returncode == 0, p.stderr
    return {r["name"]: r for r in json.loads(p.stdout)["runtimes"]}


def require(runtime):
    info = runtimes().get(runtime)
    assert info is not None, f"{runtime} is not registered"
    if not info["available"]:
        pytest.skip(f"{runtime} unavailable on this machine: {info['unavailable_reason']}")


@pytest.mark.parametrize("runtime", sorted(PEERS))
def test_skynet_10000_checks_out(runtime):
    require(runtime)
    p = spindle("run", "--runtime", runtime, "--workload", "skynet", "--param", "leaves=10000", "--repetitions", "2")
    assert p.returncode == 0, p.stderr
    recs = json.loads(p.stdout)["benchmarks"]
    iters = [r for r in recs if r["run_type"] == "iteration"]
    assert len(iters) == 2
    for r in iters:
        assert r["status"] == "ok" and r["checksum_ok"] is True
        assert r["tasks_created"] == 11111
        assert r["case_id"] == f"skynet/{runtime}/leaves:10000/workers:{r['workers']}"
        assert r[PEERS[runtime]]
        assert r["real_time"] > 0 and r["ns_per_op"] > 0
    if runtime == "java-vthreads":
        assert all(2 <= r["jit_warmup_repetitions"] <= 100 and r["jvm_heap_committed_bytes"] > 0 for r in iters)
    assert json.loads(p.stdout)["context"]["env"][PEERS[runtime]]


@pytest.mark.parametrize("runtime", sorted(PEERS))
def test_every_workload_runs_small_on_one_worker(runtime):
    require(runtime)
    for workload, params in [("spawn-million", ["tasks=2000"]), ("ping-pong", ["round-trips=2000", "pairs=2"]),
                             ("context-switch-storm", ["tasks=10", "yields=100"]),
                             ("memory-per-task", ["tasks=1000"])]:
        args = ["run", "--runtime", runtime, "--workload", workload, "--workers", "1", "--repetitions", "1"]
        for kv in params:
            args += ["--param", kv]
        p = spindle(*args, timeout=120)
        assert p.returncode == 0, (workload, p.stderr)
        recs = json.loads(p.stdout)["benchmarks"]
        assert all(r["checksum_ok"] for r in recs), (workload, recs)
        if workload == "memory-per-task":
            assert recs[0]["tasks_reached"] == 1000 and "rss_bytes_per_task" in recs[0]


def test_a_workload_the_program_does_not_list_is_unsupported():
    require("tokio")
    p = spindle("run", "--runtime", "tokio", "--workload", "fault-crash", "--repetitions", "1",
                env_extra={"SPINDLE_TEST_WORKLOADS": "1"})
    assert p.returncode == 2
    rec = json.loads(p.stdout)["benchmarks"][0]
    assert rec["status"] == "unsupported" and "spindle-tokio does not implement fault-crash" in rec["reason"]


def test_a_program_that_cannot_list_makes_its_workloads_unsupported(tmp_path):
    broken = tmp_path / "broken-program"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    p = spindle("run", "--runtime", "tokio", "--workload", "skynet", "--param", "leaves=10", "--repetitions", "1",
                env_extra={"SPINDLE_TOKIO": str(broken)})
    assert p.returncode == 2
    rec = json.loads(p.stdout)["benchmarks"][0]
    assert rec["status"] == "unsupported" and "did not list its workloads" in rec["reason"]


def test_a_missing_program_makes_the_runtime_unavailable():
    p = spindle("list", "--json", env_extra={"SPINDLE_JAVA": "/nonexistent/spindle-java"})
    info = {r["name"]: r for r in json.loads(p.stdout)["runtimes"]}["java-vthreads"]
    assert info["available"] is False and "JDK >= 21" in info["unavailable_reason"]
