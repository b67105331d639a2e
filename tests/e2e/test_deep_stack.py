"""End-to-end tests of deep-stack through the `spindle` CLI: real processes, JSON parsed. Small runs only
and no timed assertion: checksums, counters present, statuses, exit codes, bad values, and a depth beyond a
runtime's stack recorded as `limit` (a refusal before anything runs, never a crash).

The binary is $SPINDLE_BIN (default build/release/spindle)."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("SPINDLE_BIN", str(ROOT / "build" / "release" / "spindle"))
SMALL = ["--param", "tasks=50", "--param", "depth-kib=16"]
COUNTERS = ("deep_ns_per_task", "rss_bytes_per_parked_task_after_deep", "peak_rss_bytes_per_task", "tasks_reached")


def spindle(*args, timeout=120):
    env = dict(os.environ)
    env.pop("SPINDLE_TEST_WORKLOADS", None)
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def iterations(stdout):
    return [r for r in json.loads(stdout)["benchmarks"] if r.get("run_type") == "iteration"]


def require(runtime):
    p = spindle("list", "--json")
    assert p.returncode == 0, p.stderr
    info = {r["name"]: r for r in json.loads(p.stdout)["runtimes"]}[runtime]
    if not info["available"]:
        pytest.skip(f"{runtime} unavailable here: {info.get('unavailable_reason', '')}")


@pytest.mark.parametrize("runtime, extra", [("thread", []), ("boost-fiber", []), ("go", [])])
def test_small_case_checks_out_with_its_figures(runtime, extra):
    require(runtime)
    p = spindle("run", "--runtime", runtime, "--workload", "deep-stack", *SMALL, "--workers", 2,
                "--repetitions", 1, *extra)
    assert p.returncode == 0, p.stderr
    (r,) = iterations(p.stdout)
    assert r["status"] == "ok" and r["checksum_ok"] is True, r
    assert r["tasks_created"] == 50 and r["ops"] == 50
    for k in COUNTERS:
        assert k in r, (k, r)
    assert r["tasks_reached"] == 50
    # Only Go collects garbage, so only Go has an after-GC figure.
    assert ("rss_bytes_per_parked_task_after_gc" in r) == (runtime == "go")


def test_go_gives_the_grown_stacks_back_after_gc():
    require("go")
    p = spindle("run", "--runtime", "go", "--workload", "deep-stack", "--param", "tasks=200",
                "--param", "depth-kib=256", "--workers", 2, "--repetitions", 1)
    assert p.returncode == 0, p.stderr
    (r,) = iterations(p.stdout)
    assert r["status"] == "ok", r
    assert r["rss_bytes_per_parked_task_after_deep"] > 128 * 1024  # the grown stacks are resident
    assert r["rss_bytes_per_parked_task_after_gc"] < r["rss_bytes_per_parked_task_after_deep"]
    assert r["gc_cycles"] >= 2


@pytest.mark.parametrize("args, needles", [
    (["--param", "depth-kib=0"], ["depth-kib", "out of range", "1..1048576"]),
    (["--param", "depth-kib=deep"], ["'deep' is not an integer"]),
    (["--param", "tasks=0"], ["tasks", "out of range"]),
    (["--param", "frames=10"], ["unknown param 'frames'", "depth-kib"]),
])
def test_bad_values_exit_2_naming_the_value(args, needles):
    p = spindle("run", "--runtime", "thread", "--workload", "deep-stack", "--repetitions", 1, *args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    for n in needles:
        assert n in p.stderr, p.stderr


@pytest.mark.parametrize("runtime, args, needle", [
    ("boost-fiber", ["--param", "depth-kib=256"], "boost-fiber's fixed-size stack"),
    ("thread", ["--param", "depth-kib=65536"], "std::thread's default stack"),
    ("go", ["--param", "depth-kib=1048576"], "SetMaxStack"),
])
def test_a_depth_beyond_the_stack_is_a_limit_not_a_crash(runtime, args, needle):
    require(runtime)
    p = spindle("run", "--runtime", runtime, "--workload", "deep-stack", "--param", "tasks=10", *args,
                "--repetitions", 1)
    recs = iterations(p.stdout)
    assert recs and all(r["status"] == "limit" for r in recs), (p.returncode, p.stderr, p.stdout[-2000:])
    assert needle in recs[0]["reason"], recs[0]["reason"]
    assert recs[0]["tasks_created"] == 0
    assert p.returncode in (0, 2), p.stderr  # refused (2) or stopped by the program itself (0): never a crash


def test_a_sweep_records_the_limit_and_carries_on(tmp_path):
    sweep = tmp_path / "deep.json"
    sweep.write_text(json.dumps({
        "name": "deep-limit", "repetitions": 1, "timeout_s": 60, "workers": 2,
        "runtimes": ["thread", "boost-fiber"],
        "workloads": {"deep-stack": {"params": {"tasks": 20, "depth-kib": 128}}},
    }))
    out = tmp_path / "out.json"
    p = spindle("sweep", sweep, "--out", out, timeout=300)
    assert p.returncode == 0, p.stderr
    recs = json.loads(out.read_text())["benchmarks"]
    status = {r["runtime"]: r["status"] for r in recs if r.get("run_type", "iteration") == "iteration"}
    assert status == {"thread": "ok", "boost-fiber": "limit"}, status


def test_a_sweeps_stack_size_reaches_the_runtimes_that_take_one(tmp_path):
    sweep = tmp_path / "deep.json"
    sweep.write_text(json.dumps({
        "name": "deep-stack-size", "repetitions": 1, "timeout_s": 60, "workers": 2, "stack_size": 1048576,
        "runtimes": ["thread", "boost-fiber"],
        "workloads": {"deep-stack": {"params": {"tasks": 20, "depth-kib": 128}}},
    }))
    out = tmp_path / "out.json"
    p = spindle("sweep", sweep, "--out", out, timeout=300)
    assert p.returncode == 0, p.stderr
    recs = [r for r in json.loads(out.read_text())["benchmarks"] if r.get("run_type", "iteration") == "iteration"]
    assert {r["runtime"]: r["status"] for r in recs} == {"thread": "ok", "boost-fiber": "ok"}
    ids = {r["runtime"]: r["case_id"] for r in recs}
    assert ids["boost-fiber"].endswith("/stack_size:1048576") and "stack_size" not in ids["thread"]
