"""End-to-end: a spawn that fails mid-workload ends the run with status `failed` and the reason, on every
in-process runtime, instead of leaving the failed task's parent waiting for ever.

The failure is injected: SPINDLE_FAIL_SPAWN_AT=N makes the Nth spawn of the process throw EAGAIN, as a
failed thread creation would (runtimes/runtime.h, spawn_fault_point). skynet is the case that used to
hang: every parent waits on a channel for its children's sums. The subprocess timeouts below only guard
against a hang; nothing here is timed. The binary is $SPINDLE_BIN (default build/release/spindle)."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("SPINDLE_BIN", str(ROOT / "build" / "release" / "spindle"))
HANG_GUARD_S = 60
INJECTED = "injected by SPINDLE_FAIL_SPAWN_AT=50"


def environment(extra=None):
    env = dict(os.environ)
    for var in ("SPINDLE_TEST_WORKLOADS", "SPINDLE_FAIL_SPAWN_AT"):
        env.pop(var, None)
    env.update(extra or {})
    return env


@pytest.mark.parametrize("runtime", ["thread", "pool", "fiber", "boost-fiber"])
def test_failed_spawn_ends_the_run_failed_with_the_reason(tmp_path, runtime):
    out = tmp_path / "out.json"
    p = subprocess.run([BIN, "run", "--runtime", runtime, "--workload", "skynet", "--param", "leaves=1000",
                        "--workers", "2", "--repetitions", "2", "--out", str(out)],
                       capture_output=True, text=True, timeout=HANG_GUARD_S,
                       env=environment({"SPINDLE_FAIL_SPAWN_AT": "50"}))
    assert p.returncode == 1, p.stderr
    doc = json.loads(out.read_text())
    recs = doc["benchmarks"]
    assert recs and recs[0]["case_id"].startswith(f"skynet/{runtime}/leaves:1000/workers:2")
    assert all(r["status"] == "failed" and r["checksum_ok"] is False for r in recs)
    reason = recs[0]["reason"]
    assert INJECTED in reason and "spawn" in reason, reason
    assert "Resource temporarily unavailable" in reason, reason  # EAGAIN, as a failed thread creation
    assert INJECTED in p.stderr


@pytest.mark.parametrize("runtime", ["thread", "pool", "fiber", "boost-fiber"])
def test_without_the_variable_the_same_case_passes(runtime):
    p = subprocess.run([BIN, "run", "--runtime", runtime, "--workload", "skynet", "--param", "leaves=1000",
                        "--workers", "2", "--repetitions", "1"],
                       capture_output=True, text=True, timeout=HANG_GUARD_S, env=environment())
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["benchmarks"][0]["status"] == "ok"


def test_a_sweep_records_the_failed_spawn_per_case_and_keeps_the_good_ones(tmp_path):
    # Each case runs in a child `spindle run` that inherits the variable and counts its own spawns:
    # skynet with 10 leaves spawns 12 tasks and passes, with 1000 leaves the 50th spawn fails.
    definition = {"name": "spawn-failure", "repetitions": 1, "timeout_s": HANG_GUARD_S,
                  "runtimes": ["thread", "pool", "fiber", "boost-fiber"], "workers": [2],
                  "workloads": {"skynet": {"params": {"leaves": [10, 1000]}}}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(definition))
    out = tmp_path / "out.json"
    p = subprocess.run([BIN, "sweep", str(path), "--out", str(out)], capture_output=True, text=True,
                       timeout=4 * HANG_GUARD_S, env=environment({"SPINDLE_FAIL_SPAWN_AT": "50"}))
    assert p.returncode == 1, p.stderr  # some case failed
    cases = {}
    for r in json.loads(out.read_text())["benchmarks"]:  # fiber's ids go on with /stack_policy:pooled
        cases.setdefault(r["case_id"].removesuffix("/stack_policy:pooled"), []).append(r)
    for runtime in ("thread", "pool", "fiber", "boost-fiber"):
        good = cases[f"skynet/{runtime}/leaves:10/workers:2"]
        assert all(r["status"] == "ok" for r in good), good
        bad = cases[f"skynet/{runtime}/leaves:1000/workers:2"]
        assert bad[0]["status"] == "failed" and INJECTED in bad[0]["reason"], bad[0]
