"""End-to-end: progress lines name each workload's main figure in its own unit, with its cv and the noise
flags of harness/noise.h (issue "Noise made visible"). No timed assertions: the figures are read back
from the results file and compared with what the lines say.
The binary is $SPINDLE_BIN (default build/release/spindle)."""
import json
import os
import pathlib
import re
import statistics
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("SPINDLE_BIN", str(ROOT / "build" / "release" / "spindle"))

SWEEP = {"name": "units", "repetitions": 3, "timeout_s": 60, "runtimes": ["thread"], "workers": [2],
         "workloads": {"memory-per-task": {"params": {"tasks": 200}}, "skynet": {"params": {"leaves": 100}}}}
MEMORY = "memory-per-task/thread/tasks:200/workers:2"
SKYNET = "skynet/thread/leaves:100/workers:2"
# The same skynet samples as tests/fixtures/noise_samples.json's first set: two clusters.
BIMODAL = [102.3, 110.8, 118.4, 125.0, 129.7, 176.2, 184.9, 190.3, 197.1]


@pytest.fixture(scope="module", autouse=True)
def binary_exists():
    if not os.access(BIN, os.X_OK):
        pytest.fail(f"{BIN} is not built", pytrace=False)


def spindle(*args):
    env = {k: v for k, v in os.environ.items() if k != "SPINDLE_TEST_WORKLOADS"}
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=120, env=env)


def iterations(doc, case):
    return [r for r in doc["benchmarks"] if r["case_id"] == case and r["run_type"] == "iteration"]


def figure_text(value):
    return f"{value:.1f}" if abs(value) < 1000 else f"{value:.0f}"


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("units")
    definition = tmp / "units.json"
    definition.write_text(json.dumps(SWEEP))
    out = tmp / "out.json"
    p = spindle("sweep", definition, "--out", out)
    assert p.returncode == 0, p.stderr
    return definition, out, p.stderr


def progress_line(stderr, case):
    lines = [line for line in stderr.splitlines() if line.startswith("[") and f" {case} " in line]
    assert len(lines) == 1, stderr
    return lines[0]


def test_memory_per_task_progress_says_bytes_per_task_not_ns_per_op(swept):
    _, out, stderr = swept
    line = progress_line(stderr, MEMORY)
    assert "ns/op" not in line, line
    records = iterations(json.loads(out.read_text()), MEMORY)
    # every record names the figure it is read by (reports use it for workloads they do not know)
    assert {(r["main_figure"], r["main_figure_unit"]) for r in records} == {("rss_bytes_per_task", "bytes/task")}
    values = [r["rss_bytes_per_task"] for r in records]
    assert len(values) == 3
    match = re.search(r", median (\S+) bytes/task(, cv (\d+\.\d)%| NOISY \(cv (\d+)%\))", line)
    assert match, line
    assert match.group(1) == figure_text(statistics.median(values)), line
    cv = 100 * statistics.stdev(values) / statistics.mean(values)
    if match.group(3):
        assert cv <= 10 and float(match.group(3)) == pytest.approx(cv, abs=0.051), line
    else:
        assert cv > 10 and int(match.group(4)) == round(cv), line


def test_skynet_progress_stays_in_ns_per_op_with_its_cv(swept):
    _, out, stderr = swept
    line = progress_line(stderr, SKYNET)
    values = [r["ns_per_op"] for r in iterations(json.loads(out.read_text()), SKYNET)]
    assert f", median {figure_text(statistics.median(values))} ns/op" in line, line
    assert re.search(r"(, cv \d+\.\d%|NOISY \(cv \d+%\))", line), line
    assert "bytes/task" not in line


def test_the_sweep_ends_listing_a_bimodal_case_and_run_lines_use_the_unit(swept, tmp_path):
    definition, out, _ = swept
    # Plant the two clusters in the skynet case and resume: nothing runs again, and the closing
    # summary names the case as one not to trust.
    doc = json.loads(out.read_text())
    kept = [r for r in doc["benchmarks"] if r["case_id"] != SKYNET]
    template = iterations(doc, SKYNET)[0]
    planted = [dict(template, ns_per_op=v, repetition_index=i, repetitions=len(BIMODAL))
               for i, v in enumerate(BIMODAL)]
    doc["benchmarks"] = kept + planted
    previous = tmp_path / "planted.json"
    previous.write_text(json.dumps(doc))
    p = spindle("sweep", definition, "--resume", previous, "--out", tmp_path / "resumed.json")
    assert p.returncode == 0, p.stderr
    assert "0 of 2 cases to run" in p.stderr, p.stderr
    assert "1 case with a median not to trust" in p.stderr, p.stderr
    assert f"  {SKYNET}, median 129.7 ns/op NOISY (cv 26%) BIMODAL" in p.stderr, p.stderr

    p = spindle("run", "--runtime", "thread", "--workload", "memory-per-task", "--param", "tasks=200",
                "--repetitions", "2", "--out", tmp_path / "run.json")
    assert p.returncode == 0, p.stderr
    reps = [line for line in p.stderr.splitlines() if line.startswith("  rep ")]
    assert len(reps) == 2 and all(line.endswith(" bytes/task") for line in reps), p.stderr
    last = p.stderr.strip().splitlines()[-1]
    assert re.search(r": ok, median \S+ ms, \S+ bytes/task", last) and "ns/op" not in last, last


def test_interleaved_lines_read_the_repetitions_so_far(swept, tmp_path):
    definition, _, _ = swept
    out = tmp_path / "interleaved.json"
    p = spindle("sweep", definition, "--interleave", "--out", out)
    assert p.returncode == 0, p.stderr
    memory = [line for line in p.stderr.splitlines() if line.startswith("[") and f" {MEMORY} (rep " in line]
    assert len(memory) == 3, p.stderr
    assert ", median " not in memory[0] and re.search(r", \S+ bytes/task \(elapsed", memory[0]), memory[0]
    values = [r["rss_bytes_per_task"] for r in iterations(json.loads(out.read_text()), MEMORY)]
    assert f", median {figure_text(statistics.median(values))} bytes/task" in memory[-1], memory[-1]
    assert all("ns/op" not in line for line in memory)


def test_list_names_each_workloads_main_figure():
    p = spindle("list", "--json")
    assert p.returncode == 0, p.stderr
    figures = {w["name"]: w["main_figure"] for w in json.loads(p.stdout)["workloads"]}
    assert figures["memory-per-task"] == {"counter": "rss_bytes_per_task", "unit": "bytes/task"}
    assert figures["echo"]["unit"] == "round trips/s" and figures["skynet"]["unit"] == "ns/op"
    assert "(op = one parked task; figure in bytes/task)" in spindle("list").stdout
