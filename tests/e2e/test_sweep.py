"""End-to-end tests of `spindle sweep`: real child processes, real signals, the results file parsed.

Covers isolation (a crash, a hang and a wrong checksum each cost only their case), the atomically
rewritten results file (SIGKILL / SIGTERM / SIGINT mid-way) and --resume, validation of malformed sweep
files (exact path messages, exit 2, nothing run), --dry-run, --filter, --interleave and progress output.
The binary is $SPINDLE_BIN (default build/release/spindle)."""
import datetime
import hashlib
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("SPINDLE_BIN", str(ROOT / "build" / "release" / "spindle"))
TEST_ENV = {"SPINDLE_TEST_WORKLOADS": "1"}


def environment(extra=None):
    env = dict(os.environ)
    env.pop("SPINDLE_TEST_WORKLOADS", None)
    env.update(extra or {})
    return env


def sweep(*args, env_extra=None, cwd=None, timeout=120):
    return subprocess.run([BIN, "sweep", *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=environment(env_extra), cwd=cwd)


def write_sweep(tmp_path, definition, name="s.json"):
    path = tmp_path / name
    path.write_text(json.dumps(definition, indent=1))
    return path


def by_case(doc):
    cases = {}
    for r in doc["benchmarks"]:
        cases.setdefault(r["case_id"], []).append(r)
    return cases


def case_status(records):
    bad = [r["status"] for r in records if r["status"] != "ok"]
    return bad[0] if bad else "ok"


def dry_run_ids(path, *extra, env_extra=None):
    p = sweep(path, "--dry-run", *extra, env_extra=env_extra)
    assert p.returncode == 0, p.stderr
    return [line.split()[0] for line in p.stdout.splitlines() if line.startswith("  ")]


def children_of_sweep(pid):
    """Processes still running a case for sweep `pid` (their --out names the sweep's pid)."""
    marker = f"spindle-sweep-{pid}-".encode()
    found = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def wait_for_recorded(out, count, timeout=30):
    """Polls the results file until `count` cases are recorded; returns the document."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists():
            doc = json.loads(out.read_text())  # always complete JSON: it is replaced by rename
            if doc["context"]["sweep"]["cases_recorded"] >= count:
                return doc
        time.sleep(0.05)
    raise AssertionError(f"{out}: fewer than {count} cases recorded after {timeout} s")


def running(pid):
    """Whether `pid` still runs (a zombie waiting for its reaper has finished)."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pids, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(running(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if running(p)]


@pytest.fixture(scope="module", autouse=True)
def binary_exists():
    if not os.access(BIN, os.X_OK):
        pytest.fail(f"{BIN} is not built (cmake --preset release && cmake --build build/release --target spindle)",
                    pytrace=False)


FAULT_SWEEP = {
    "name": "faults",
    "repetitions": 2,
    "timeout_s": 30,
    "runtimes": ["pool"],
    "workers": [2],
    "workloads": {
        "spawn-million": {"params": {"tasks": 100}},
        "fault-crash": {},
        "fault-hang": {"timeout_s": 2},
        "fault-checksum": {},
        "skynet": {"params": {"leaves": 100}},
    },
}


def test_fault_sweep_records_every_status_and_keeps_the_good_cases(tmp_path):
    path = write_sweep(tmp_path, FAULT_SWEEP)
    out = tmp_path / "out.json"
    started = time.monotonic()
    p = sweep(path, "--out", out, env_extra=TEST_ENV)
    assert p.returncode == 1, p.stderr  # a case failed, crashed or timed out
    assert time.monotonic() - started < 20
    doc = json.loads(out.read_text())
    cases = by_case(doc)
    statuses = {case: case_status(rs) for case, rs in cases.items()}
    assert statuses == {
        "spawn-million/pool/tasks:100/workers:2": "ok",
        "fault-crash/pool/tasks:1/workers:2": "crashed",
        "fault-hang/pool/tasks:1/workers:2": "timeout",
        "fault-checksum/pool/tasks:1/workers:2": "failed",
        "skynet/pool/leaves:100/workers:2": "ok",
    }
    # The good cases are whole: 2 repetitions, 4 aggregates, checksums verified.
    for case in ("spawn-million/pool/tasks:100/workers:2", "skynet/pool/leaves:100/workers:2"):
        iterations = [r for r in cases[case] if r["run_type"] == "iteration"]
        aggregates = {r["aggregate_name"] for r in cases[case] if r["run_type"] == "aggregate"}
        assert len(iterations) == 2 and all(r["checksum_ok"] for r in iterations)
        assert aggregates == {"mean", "median", "stddev", "cv"}
    crash = cases["fault-crash/pool/tasks:1/workers:2"][0]
    assert crash["signal"] == signal.SIGSEGV and crash["signal_name"] == "SIGSEGV"
    assert "signal 11" in crash["reason"] and "fault-crash" in crash["stderr_tail"]
    hang = cases["fault-hang/pool/tasks:1/workers:2"][0]
    assert "timeout of 2 s" in hang["reason"] and hang["real_time"] == 0
    checksum = cases["fault-checksum/pool/tasks:1/workers:2"]
    assert all(r["checksum_ok"] is False for r in checksum)
    assert "expected 42, got 41" in checksum[0]["reason"] and "checksum" in checksum[0]["stderr_tail"]
    assert all(r.get("stderr_tail", "") == "" for r in cases["spawn-million/pool/tasks:100/workers:2"])
    # Context: which sweep, its file's hash, the load at start and end.
    s = doc["context"]["sweep"]
    assert s["name"] == "faults" and s["cases_total"] == 5 and s["cases_recorded"] == 5
    assert s["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(doc["context"]["env"]["load_avg_start"]) == 3 and len(doc["context"]["env"]["load_avg_end"]) == 3
    # One plain progress line per case when stderr is not a terminal.
    assert sum(line.startswith("[") for line in p.stderr.splitlines()) == 5
    assert "[2/5] crashed  fault-crash/pool/tasks:1/workers:2: killed by signal 11 (SIGSEGV" in p.stderr


KILL_SWEEP = {
    "name": "killable",
    "repetitions": 2,
    "timeout_s": 30,
    "runtimes": ["thread", "pool"],
    "workers": [2],
    "workloads": {
        "spawn-million": {"params": {"tasks": [100, 200]}},
        "fault-hang": {"runtimes": ["pool"], "timeout_s": 3},
        "skynet": {"params": {"leaves": 100}},
    },
}


def start_sweep(path, out):
    return subprocess.Popen([BIN, "sweep", str(path), "--out", str(out)], env=environment(TEST_ENV),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_sigkill_mid_sweep_leaves_valid_json_and_resume_completes_it(tmp_path):
    path = write_sweep(tmp_path, KILL_SWEEP)
    out = tmp_path / "out.json"
    expected = dry_run_ids(path, env_extra=TEST_ENV)
    assert len(expected) == 7 and expected[4] == "fault-hang/pool/tasks:1/workers:2"
    proc = start_sweep(path, out)
    try:
        before = wait_for_recorded(out, 4)  # the 5th case hangs for 3 s: the kill lands inside it
        time.sleep(0.3)
        children = children_of_sweep(proc.pid)
        assert children, "the hanging case should be running in a child process"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert wait_gone(children) == [], "a child outlived its killed sweep"
    killed = json.loads(out.read_text())
    finished = by_case(killed)
    assert list(finished) == expected[:4] and killed["context"]["sweep"]["cases_recorded"] == 4

    p = sweep(path, "--resume", out, env_extra=TEST_ENV)
    assert p.returncode == 1, p.stderr  # the hang times out again, as it should
    assert "3 of 7 cases to run" in p.stderr
    resumed = json.loads(out.read_text())
    cases = by_case(resumed)
    assert list(cases) == expected
    assert resumed["context"]["sweep"]["cases_recorded"] == 7
    for case in expected[:4]:  # finished cases are kept as they were, not run again
        assert cases[case] == finished[case]
    assert case_status(cases["fault-hang/pool/tasks:1/workers:2"]) == "timeout"
    assert all(case_status(cases[c]) == "ok" for c in expected if "fault" not in c)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_kill_the_child_keep_the_file_and_exit_128_plus_signal(tmp_path, sig, code):
    path = write_sweep(tmp_path, KILL_SWEEP)
    out = tmp_path / "out.json"
    proc = start_sweep(path, out)
    try:
        wait_for_recorded(out, 4)
        time.sleep(0.3)
        children = children_of_sweep(proc.pid)
        assert children
        started = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == code
        assert time.monotonic() - started < 2  # did not wait for the 3 s timeout
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert wait_gone(children) == []
    doc = json.loads(out.read_text())
    assert len(by_case(doc)) == 4 and "fault-hang/pool/tasks:1/workers:2" not in by_case(doc)
    assert f"interrupted by {signal.Signals(sig).name}" in err and "--resume" in err


def test_resume_refuses_results_of_another_sweep_definition(tmp_path):
    good = write_sweep(tmp_path, {"name": "one", "runtimes": ["pool"], "workers": [1], "repetitions": 1,
                                  "workloads": {"spawn-million": {"params": {"tasks": 10}}}})
    out = tmp_path / "out.json"
    assert sweep(good, "--out", out).returncode == 0
    changed = write_sweep(tmp_path, {"name": "one", "runtimes": ["pool"], "workers": [1], "repetitions": 2,
                                     "workloads": {"spawn-million": {"params": {"tasks": 10}}}}, "changed.json")
    before = out.read_text()
    p = sweep(changed, "--resume", out)
    assert p.returncode == 2
    assert "written by a different sweep definition" in p.stderr
    assert out.read_text() == before
    p = sweep(good, "--resume", tmp_path / "missing.json")
    assert p.returncode == 2 and "cannot read it" in p.stderr


BASE = {"name": "bad", "runtimes": ["pool"], "workloads": {"spawn-million": {}}}


@pytest.mark.parametrize("change, message", [
    ({"workloads": {"ping-pong": {"params": {"pairs": [1, 4, "four"]}}}},
     'workloads.ping-pong.params.pairs[2]: expected an integer 1..100000, got "four"'),
    ({"repetiton": 3}, "repetiton: unknown key; valid: name, description, workloads, runtimes, workers, repetitions, "
                       "timeout_s, stack_policies"),
    ({"workloads": {"ping-pong": {"parms": {}}}},
     "workloads.ping-pong.parms: unknown key; valid: params, runtimes, workers, repetitions, timeout_s, stack_policies"),
    ({"workloads": {"ping-pong": {"params": {"pair": 1}}}},
     "workloads.ping-pong.params.pair: unknown key; valid: pairs, round-trips"),
    ({"repetitions": "3"}, 'repetitions: expected an integer 1..1000, got "3"'),
    ({"repetitions": 0}, "repetitions: expected an integer 1..1000, got 0"),
    ({"timeout_s": -1}, "timeout_s: expected a number of seconds > 0 (at most a week), got -1"),
    ({"workers": [1, 2000]}, 'workers[1]: expected an integer 1..1024 or "all", got 2000'),
    ({"runtimes": ["pool", "fibre"]}, 'runtimes[1]: unknown runtime "fibre"; valid: thread, pool'),
    ({"workloads": {"skynet": {"params": {"leaves": 500}}}},
     "workloads.skynet.params.leaves: expected a power of 10 in 1..100000000, got 500"),
    ({"workloads": {"skynet": {"params": {"leaves": {"powers_of": 2, "from": 1, "to": 100}}}}},
     "workloads.skynet.params.leaves: expected a range of a power of 10 in 1..100000000, but it yields 2"),
    ({"workloads": {"spawn-million": {"params": {"tasks": {"from": 10, "to": 1}}}}},
     "workloads.spawn-million.params.tasks: expected exactly one of \"powers_of\" and \"step\""),
    ({"workloads": {"spawn-million": {"params": {"tasks": {"from": 10, "to": 1, "step": 1}}}}},
     'workloads.spawn-million.params.tasks.to: expected a value ≥ "from" (10), got 1'),
    ({"workloads": {"spawn-millions": {}}}, "workloads.spawn-millions: unknown workload; valid: spawn-million, ping-pong"),
    ({"workloads": {"fault-crash": {}}}, "workloads.fault-crash: unknown workload"),  # test-only, hidden
    ({"stack_policies": ["pooled", "shared"]}, 'stack_policies[1]: expected "pooled" or "copy", got "shared"'),
    ({"stack_size": 1000}, "stack_size: expected an integer 16384..67108864, got 1000"),
    ({"name": "a b"}, "name: expected a name of 1..64 letters, digits, '.', '_', '-', got \"a b\""),
])
def test_malformed_sweep_files_are_rejected_with_the_path_of_the_bad_value(tmp_path, change, message):
    definition = {**BASE, **change}
    path = write_sweep(tmp_path, definition)
    out = tmp_path / "out.json"
    p = sweep(path, "--out", out)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("spindle: " + message), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not out.exists()  # nothing ran, nothing written


def test_invalid_json_and_missing_file_exit_2(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x", ')
    p = sweep(path, "--dry-run")
    assert p.returncode == 2 and f"sweep file {path}: not valid JSON" in p.stderr
    p = sweep(tmp_path / "nope.json", "--dry-run")
    assert p.returncode == 2 and "cannot read it" in p.stderr


def test_dry_run_lists_the_expanded_cases_and_an_estimate(tmp_path):
    path = write_sweep(tmp_path, {
        "name": "grid", "repetitions": 2, "workers": [1, 2], "runtimes": ["thread", "pool", "go"],
        "workloads": {"spawn-million": {"params": {"tasks": {"powers_of": 10, "from": 10, "to": 1000}}},
                      "ping-pong": {"params": {"pairs": {"powers_of": 2, "from": 1, "to": 6}, "round-trips": 10},
                                    "runtimes": ["go"], "workers": [1]}}})
    p = sweep(path, "--dry-run")
    assert p.returncode == 0, p.stderr
    ids = dry_run_ids(path)
    cores = os.sysconf("SC_NPROCESSORS_ONLN")  # what the thread runtime reports as its workers
    # thread ignores workers: one case per parameter point, at the machine's cores
    assert [i for i in ids if "/thread/" in i] == [f"spawn-million/thread/tasks:{t}/workers:{cores}" for t in (10, 100, 1000)]
    assert [i for i in ids if "/pool/" in i] == [f"spawn-million/pool/tasks:{t}/workers:{w}" for t in (10, 100, 1000)
                                                 for w in (1, 2)]
    # a powers_of range ends at "to" even when "to" is not a power
    assert [i for i in ids if i.startswith("ping-pong")] == [
        f"ping-pong/go/pairs:{n}/round-trips:10/workers:1" for n in (1, 2, 4, 6)]
    assert len(ids) == 3 + 6 + 6 + 4
    assert f"{len(ids)} cases selected, {len(ids)} to run; estimate ~" in p.stdout
    assert not (tmp_path / "results").exists()


def test_shipped_sweep_files_are_valid():
    least = {"quick": 40, "full": 150}
    for path in sorted((ROOT / "harness" / "sweeps").glob("*.json")):
        ids = dry_run_ids(path)
        assert len(ids) >= least.get(path.stem, 1), path.name
        assert len(set(ids)) == len(ids), path.name
    # the A/B gate watches our own runtime
    assert all("/fiber/" in i for i in dry_run_ids(ROOT / "harness" / "sweeps" / "ab.json"))
    quick = dry_run_ids(ROOT / "harness" / "sweeps" / "quick.json")
    for workload in ("spawn-million", "ping-pong", "context-switch-storm", "skynet", "memory-per-task"):
        for runtime in ("thread", "pool", "fiber", "boost-fiber", "go"):
            assert any(i.startswith(f"{workload}/{runtime}/") for i in quick), (workload, runtime)


def test_filter_runs_only_matching_cases(tmp_path):
    path = write_sweep(tmp_path, {"name": "filtered", "repetitions": 1, "workers": [1],
                                  "runtimes": ["thread", "pool", "go"],
                                  "workloads": {"spawn-million": {"params": {"tasks": [10, 20]}}}})
    out = tmp_path / "out.json"
    p = sweep(path, "--filter", "pool|go/tasks:20", "--out", out)
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    assert sorted(by_case(doc)) == sorted([
        "spawn-million/pool/tasks:10/workers:1", "spawn-million/pool/tasks:20/workers:1",
        "spawn-million/go/tasks:20/workers:1"])
    assert doc["context"]["sweep"]["cases_total"] == 6
    p = sweep(path, "--filter", "nothing-like-this")
    assert p.returncode == 2 and "matches none of the 6 cases" in p.stderr
    p = sweep(path, "--filter", "(")
    assert p.returncode == 2 and "not a valid regular expression" in p.stderr


def test_interleave_runs_one_repetition_per_process_and_aggregates_like_google_benchmark(tmp_path):
    path = write_sweep(tmp_path, {"name": "fair", "repetitions": 3, "workers": [2], "runtimes": ["thread", "pool"],
                                  "workloads": {"spawn-million": {"params": {"tasks": 200}},
                                                "ping-pong": {"params": {"round-trips": 50}}}})
    out = tmp_path / "out.json"
    p = sweep(path, "--interleave", "--out", out)
    assert p.returncode == 0, p.stderr
    progress = [line for line in p.stderr.splitlines() if line.startswith("[")]
    # round-robin: every case once per round (pool ping-pong is refused once, not in every round)
    assert len(progress) == 1 + 3 * 3, p.stderr
    assert [line.split("(rep ")[1][0] for line in progress] == ["1"] * 4 + ["2"] * 3 + ["3"] * 3, p.stderr
    doc = json.loads(out.read_text())
    assert doc["context"]["sweep"]["interleave"] is True
    cases = by_case(doc)
    assert case_status(cases["ping-pong/pool/pairs:1/round-trips:50/workers:2"]) == "unsupported"
    ran = [case for case, rs in cases.items() if case_status(rs) == "ok"]
    assert len(ran) == 3
    for case in ran:
        iterations = [r for r in cases[case] if r["run_type"] == "iteration"]
        aggregates = {r["aggregate_name"]: r for r in cases[case] if r["run_type"] == "aggregate"}
        assert [r["repetition_index"] for r in iterations] == [0, 1, 2]
        assert all(r["repetitions"] == 3 and r["status"] == "ok" for r in iterations)
        times = [r["real_time"] for r in iterations]
        ops = [r["ns_per_op"] for r in iterations]
        assert aggregates["mean"]["real_time"] == pytest.approx(statistics.mean(times))
        assert aggregates["median"]["real_time"] == pytest.approx(statistics.median(times))
        assert aggregates["stddev"]["real_time"] == pytest.approx(statistics.stdev(times))
        assert aggregates["cv"]["real_time"] == pytest.approx(statistics.stdev(times) / statistics.mean(times))
        assert aggregates["median"]["ns_per_op"] == pytest.approx(statistics.median(ops))
        assert aggregates["cv"]["aggregate_unit"] == "percentage" and aggregates["mean"]["aggregate_unit"] == "time"


def test_default_output_path_and_a_live_progress_line_on_a_terminal(tmp_path):
    import pty
    path = write_sweep(tmp_path, {"name": "tiny", "repetitions": 1, "workers": [1], "runtimes": ["pool"],
                                  "workloads": {"spawn-million": {"params": {"tasks": [10, 20]}}}})
    leader, follower = pty.openpty()
    try:
        p = subprocess.run([BIN, "sweep", str(path)], cwd=tmp_path, env=environment(), stdout=subprocess.DEVNULL,
                           stderr=follower, timeout=60)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not data:
                break
            chunks.append(data)
        screen = b"".join(chunks).decode(errors="replace")
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert p.returncode == 0
    assert "\r\x1b[K[1/2] spawn-million/pool/tasks:10/workers:1 | 0:00 elapsed | ETA " in screen
    assert "\n[1/2]" not in screen.replace("\r\n", "\n")  # a live line, not one line per case
    expected = tmp_path / "results" / f"{datetime.date.today():%Y-%m-%d}-{socket.gethostname()}-tiny.json"
    assert expected.exists(), list((tmp_path / "results").iterdir())
    assert len(by_case(json.loads(expected.read_text()))) == 2
    # a second run does not overwrite the first
    assert sweep(path, cwd=tmp_path).returncode == 0
    assert expected.with_name(expected.stem + "-2.json").exists()
