"""End-to-end tests of the `spindle` CLI: real processes, JSON parsed, every error path checked.

The binary is $SPINDLE_BIN (default build/release/spindle)."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("SPINDLE_BIN", str(ROOT / "build" / "release" / "spindle"))


def spindle(*args, env_extra=None, timeout=300):
    env = dict(os.environ)
    env.pop("SPINDLE_TEST_WORKLOADS", None)
    env.update(env_extra or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, env=env)


def records(stdout):
    doc = json.loads(stdout)
    assert doc["context"]["spindle_schema"] == 1
    return doc, doc["benchmarks"]


def test_run_thread_skynet_prints_valid_json_with_checksum():
    p = spindle("run", "--runtime", "thread", "--workload", "skynet", "--param", "leaves=10000", "--repetitions", "3")
    assert p.returncode == 0, p.stderr
    doc, recs = records(p.stdout)
    iters = [r for r in recs if r["run_type"] == "iteration"]
    aggs = {r["aggregate_name"]: r for r in recs if r["run_type"] == "aggregate"}
    assert len(iters) == 3
    assert set(aggs) == {"mean", "median", "stddev", "cv"}
    for r in iters:
        assert r["checksum_ok"] is True
        assert r["status"] == "ok"
        assert r["runtime"] == "thread" and r["workload"] == "skynet"
        assert r["params"] == {"leaves": 10000}
        assert r["tasks_created"] == 11111
        assert r["ops"] == 11111
        assert r["ns_per_op"] > 0 and r["ops_per_second"] > 0
        for k in ("peak_rss_bytes", "voluntary_csw", "involuntary_csw", "user_cpu_s", "sys_cpu_s"):
            assert k in r
        assert r["real_time"] > 0 and r["time_unit"] == "ms"
        # ns_per_op is real time over ops
        assert abs(r["ns_per_op"] - r["real_time"] * 1e6 / r["ops"]) / r["ns_per_op"] < 1e-6
    env = doc["context"]["env"]
    for k in ("cpu_model", "kernel", "compiler", "boost_version", "benchmark_version", "git_revision", "max_map_count"):
        assert k in env


def test_memory_per_task_reports_bytes_and_tasks_reached():
    p = spindle("run", "--runtime", "thread", "--workload", "memory-per-task", "--param", "tasks=300",
                "--repetitions", "1")
    assert p.returncode == 0, p.stderr
    _, recs = records(p.stdout)
    assert recs[0]["tasks_reached"] == 300
    assert recs[0]["rss_bytes_per_task"] > 0


def test_out_file_is_written(tmp_path):
    out = tmp_path / "sub" / "r.json"
    p = spindle("run", "--runtime", "pool", "--workload", "spawn-million", "--param", "tasks=1000",
                "--repetitions", "1", "--out", str(out))
    assert p.returncode == 0, p.stderr
    _, recs = records(out.read_text())
    assert recs[0]["status"] == "ok"
    assert "spawn-million/pool" in p.stderr


@pytest.mark.parametrize("args, needles", [
    (["--runtime", "threads", "--workload", "skynet"], ["unknown runtime 'threads'", "valid: thread, pool"]),
    (["--runtime", "thread", "--workload", "skynets"], ["unknown workload 'skynets'", "valid: spawn-million"]),
    (["--runtime", "thread", "--workload", "skynet", "--param", "depth=2"], ["unknown param 'depth'", "valid: leaves"]),
    (["--runtime", "thread", "--workload", "skynet", "--param", "leaves=lots"], ["'lots' is not an integer"]),
    (["--runtime", "thread", "--workload", "skynet", "--param", "leaves=0"], ["out of range", "1..100000000"]),
    (["--runtime", "thread", "--workload", "skynet", "--param", "leaves=500"], ["not a power of 10"]),
    (["--runtime", "thread", "--workload", "ping-pong", "--param", "pairs"], ["expected NAME=VALUE"]),
    (["--runtime", "thread", "--workload", "skynet", "--repetitions", "0"], ["--repetitions 0"]),
    (["--runtime", "thread", "--workload", "skynet", "--workers", "x"], ["--workers"]),
    (["--runtime", "pool", "--workload", "ping-pong"], ["unsupported", "pool does not offer"]),
    (["--runtime", "thread", "--workload", "skynet", "--stack-size", "65536"], ["--stack-size is for the fiber"]),
    (["--runtime", "fiber", "--workload", "skynet", "--stack-size", "1000"], ["--stack-size 1000", "16384"]),
    (["--runtime", "thread", "--workload", "memory-per-task", "--param", "tasks=5000000"],
     ["limit", "OS threads alive at once", "bound by"]),
])
def test_bad_input_exits_2_naming_the_bad_value(args, needles):
    p = spindle("run", "--repetitions", "1", *args) if "--repetitions" not in args else spindle("run", *args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    for n in needles:
        assert n in p.stderr, p.stderr


def test_refused_case_still_writes_a_status_record():
    p = spindle("run", "--runtime", "pool", "--workload", "ping-pong", "--repetitions", "1")
    assert p.returncode == 2
    _, recs = records(p.stdout)
    assert recs[0]["status"] == "unsupported" and "block" in recs[0]["reason"]


def test_failed_checksum_exits_1_and_records_failure():
    p = spindle("run", "--runtime", "thread", "--workload", "fault-checksum", "--repetitions", "2",
                env_extra={"SPINDLE_TEST_WORKLOADS": "1"})
    assert p.returncode == 1, p.stderr
    _, recs = records(p.stdout)
    assert all(r["status"] == "failed" and r["checksum_ok"] is False for r in recs)
    assert "checksum mismatch" in recs[0]["error_message"]
    # the verdict is in after the first failure: the other repetition is not run again
    assert "skipped: repetition 1 did not pass" in recs[1]["error_message"]


def test_list_shows_matrix_and_hides_test_workloads():
    p = spindle("list")
    assert p.returncode == 0
    for name in ("thread", "pool", "boost-fiber", "go", "spawn-million", "ping-pong", "context-switch-storm",
                 "skynet", "memory-per-task", "Capability matrix"):
        assert name in p.stdout
    assert "fault-" not in p.stdout
    j = json.loads(spindle("list", "--json").stdout)
    assert j["matrix"]["ping-pong"]["pool"]["status"] == "unsupported"
    assert j["matrix"]["skynet"]["thread"]["status"] == "limit"
    assert any(w["name"] == "skynet" and w["params"][0]["power_of_10"] for w in j["workloads"])


def test_env_prints_machine_facts():
    p = spindle("env")
    assert p.returncode == 0
    env = json.loads(p.stdout)["env"]
    assert env["online_cpus"] >= 1 and env["memory_bytes"] > 0
    assert env["git_revision"]


def test_unknown_subcommand_exits_2():
    p = spindle("frobnicate")
    assert p.returncode == 2


@pytest.mark.parametrize("runtime", ["fiber", "boost-fiber", "go"])
def test_skynet_on_m_n_runtimes_counts_every_task(runtime):
    p = spindle("run", "--runtime", runtime, "--workload", "skynet", "--param", "leaves=10000", "--repetitions", "2",
                "--workers", "2")
    assert p.returncode == 0, p.stderr
    _, recs = records(p.stdout)
    iters = [r for r in recs if r["run_type"] == "iteration"]
    assert len(iters) == 2
    assert all(r["checksum_ok"] and r["tasks_created"] == 11111 and r["workers"] == 2 for r in iters)
    if runtime == "go":
        assert iters[0]["go_version"].startswith("go")


def test_stack_policy_is_part_of_the_fiber_case_id():
    p = spindle("run", "--runtime", "fiber", "--workload", "spawn-million", "--param", "tasks=1000", "--repetitions", "1")
    assert p.returncode == 0, p.stderr
    _, recs = records(p.stdout)
    assert recs[0]["stack_policy"] == "pooled"
    assert recs[0]["case_id"].endswith("/stack_policy:pooled")


@pytest.mark.parametrize("runtime", ["fiber", "boost-fiber", "go", "pool"])
def test_one_worker_runs_every_supported_workload(runtime):
    for workload, params in [("spawn-million", ["tasks=2000"]), ("skynet", ["leaves=1000"]),
                             ("ping-pong", ["round-trips=2000"]), ("context-switch-storm", ["tasks=10", "yields=100"])]:
        args = ["run", "--runtime", runtime, "--workload", workload, "--workers", "1", "--repetitions", "2"]
        for kv in params:
            args += ["--param", kv]
        p = spindle(*args, timeout=60)
        if runtime == "pool" and workload in ("ping-pong", "context-switch-storm"):
            assert p.returncode == 2 and "unsupported" in p.stderr
            continue
        assert p.returncode == 0, (workload, p.stderr)
        assert all(r["checksum_ok"] for r in records(p.stdout)[1])


@pytest.mark.parametrize("workload, params", [
    ("spawn-million", ["tasks=5000"]), ("ping-pong", ["pairs=2", "round-trips=5000"]),
    ("context-switch-storm", ["tasks=50", "yields=200"]), ("skynet", ["leaves=10000"]),
    ("memory-per-task", ["tasks=5000"])])
@pytest.mark.parametrize("policy", ["pooled", "copy"])
def test_every_workload_passes_under_both_stack_policies(workload, params, policy):
    args = ["run", "--runtime", "fiber", "--workload", workload, "--stack-policy", policy, "--repetitions", "2"]
    for kv in params:
        args += ["--param", kv]
    p = spindle(*args, timeout=120)
    assert p.returncode == 0, p.stderr
    recs = records(p.stdout)[1]
    assert all(r["checksum_ok"] and r["stack_policy"] == policy for r in recs)


def test_stack_size_is_part_of_the_case_id():
    p = spindle("run", "--runtime", "fiber", "--workload", "skynet", "--param", "leaves=1000", "--stack-size", "32768",
                "--repetitions", "1")
    assert p.returncode == 0, p.stderr
    rec = records(p.stdout)[1][0]
    assert rec["stack_size"] == 32768 and rec["case_id"].endswith("/stack_size:32768") and rec["checksum_ok"]
