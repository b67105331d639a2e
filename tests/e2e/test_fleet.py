"""End-to-end tests of sharded sweeps and `spindle merge`, and the whole fleet path on one machine:
3 shards as 3 concurrent processes -> merge -> results database -> report, against the unsharded sweep.

Covers the stable case -> shard assignment, the job engines' environment variables (Kubernetes, Slurm,
Bazel), bad values (exit 2 naming them), the empty shard, interleaved repetitions kept in one shard, and
every refusal of merge (other sweep file, missing or duplicated shard, a case twice) plus machines with
different fingerprints kept apart. The binary is $SPINDLE_BIN (default build/release/spindle)."""
import json
import os
import pathlib
import sqlite3
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("SPINDLE_BIN", str(ROOT / "build" / "release" / "spindle"))
SCRIPTS = ROOT / "scripts"
SHARD_VARIABLES = ("JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
                   "TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", "TEST_SHARD_STATUS_FILE")
GRID = {"name": "fleet", "repetitions": 2, "workers": [1], "runtimes": ["thread", "pool", "fiber"],
        "workloads": {"spawn-million": {"params": {"tasks": [10, 20, 30, 40]}}}}


def environment(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in SHARD_VARIABLES}
    env.update(extra or {})
    return env


def spindle(*args, env_extra=None, timeout=120):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=environment(env_extra))


def script(name, *args, timeout=300):
    return subprocess.run([sys.executable, str(SCRIPTS / name), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def write_sweep(tmp_path, definition, name="fleet.json"):
    path = tmp_path / name
    path.write_text(json.dumps(definition))
    return path


def dry_run_ids(path, *extra, env_extra=None):
    p = spindle("sweep", path, "--dry-run", *extra, env_extra=env_extra)
    assert p.returncode == 0, p.stderr
    return [line.split()[0] for line in p.stdout.splitlines() if line.startswith("  ")]


def case_statuses(doc):
    statuses = {}
    for r in doc["benchmarks"]:
        if r["status"] != "ok" or r["case_id"] not in statuses:
            statuses[r["case_id"]] = r["status"]
    return statuses


def test_shards_partition_the_cases_and_adding_a_case_moves_no_other(tmp_path):
    path = write_sweep(tmp_path, GRID)
    every = dry_run_ids(path)
    shards = [dry_run_ids(path, "--shard", f"{k}/3") for k in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(every)
    assert all(shards), "12 cases over 3 shards: each shard has some"
    grown = dict(GRID, workloads={"spawn-million": {"params": {"tasks": [10, 20, 30, 40, 50]}}})
    bigger = write_sweep(tmp_path, grown, "bigger.json")
    for k, before in zip((1, 2, 3), shards):
        after = dry_run_ids(bigger, "--shard", f"{k}/3")
        assert set(before) <= set(after) and len(after) - len(before) <= 3


@pytest.mark.parametrize("env, extra, shard, source", [
    ({"JOB_COMPLETION_INDEX": "1"}, ["--shard-count", "3"], "2/3", "JOB_COMPLETION_INDEX=1, --shard-count 3"),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"}, [], "3/3",
     "SLURM_ARRAY_TASK_ID=3 - SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_COUNT=3"),
    ({"TEST_SHARD_INDEX": "0", "TEST_TOTAL_SHARDS": "3"}, [], "1/3", "TEST_SHARD_INDEX=0, TEST_TOTAL_SHARDS=3"),
])
def test_job_engine_variables_choose_the_shard_and_say_so(tmp_path, env, extra, shard, source):
    path = write_sweep(tmp_path, GRID)
    status_file = tmp_path / "bazel-shard-status"
    env = dict(env, TEST_SHARD_STATUS_FILE=str(status_file)) if "TEST_SHARD_INDEX" in env else env
    p = spindle("sweep", path, "--dry-run", *extra, env_extra=env)
    assert p.returncode == 0, p.stderr
    assert f"spindle: shard {shard} from {source}:" in p.stderr
    assert dry_run_ids(path, *extra, env_extra=env) == dry_run_ids(path, "--shard", shard)
    assert status_file.exists() == ("TEST_SHARD_INDEX" in env)


@pytest.mark.parametrize("args, env, message", [
    (["--shard", "0/3"], {}, "--shard 0/3: K='0': expected an integer 1..10000"),
    (["--shard", "4/3"], {}, "--shard '4/3': K must be 1..3"),
    (["--shard", "two/3"], {}, "K='two'"),
    (["--shard", "3"], {}, "--shard '3': expected K/N"),
    (["--shard", "1/0"], {}, "N='0'"),
    ([], {"JOB_COMPLETION_INDEX": "1"}, "JOB_COMPLETION_INDEX=1 is set (a Kubernetes Indexed Job) but the shard count"),
    (["--shard-count", "3"], {"JOB_COMPLETION_INDEX": "3"}, "JOB_COMPLETION_INDEX=3 is not below the shard count 3"),
    (["--shard-count", "3"], {}, "--shard-count 3: only for JOB_COMPLETION_INDEX"),
    ([], {"SLURM_ARRAY_TASK_ID": "x1", "SLURM_ARRAY_TASK_COUNT": "3"}, "SLURM_ARRAY_TASK_ID='x1'"),
    ([], {"SLURM_ARRAY_TASK_ID": "1"}, "SLURM_ARRAY_TASK_COUNT is not"),
    ([], {"TEST_SHARD_INDEX": "5", "TEST_TOTAL_SHARDS": "2"}, "TEST_SHARD_INDEX=5 is not below the shard count 2"),
])
def test_bad_shard_values_exit_2_naming_the_value(tmp_path, args, env, message):
    p = spindle("sweep", write_sweep(tmp_path, GRID), "--dry-run", *args, env_extra=env)
    assert p.returncode == 2
    assert message in p.stderr, p.stderr


def test_an_empty_shard_succeeds_and_merges(tmp_path):
    one_case = write_sweep(tmp_path, dict(GRID, runtimes=["pool"], workloads={"spawn-million": {"params": {"tasks": 10}}}))
    outs = []
    for k in (1, 2, 3, 4):
        out = tmp_path / f"s{k}.json"
        p = spindle("sweep", one_case, "--shard", f"{k}/4", "--out", out)
        assert p.returncode == 0, p.stderr
        outs.append(out)
    docs = [json.loads(o.read_text()) for o in outs]
    assert sorted(len({r["case_id"] for r in d["benchmarks"]}) for d in docs) == [0, 0, 0, 1]
    assert all(d["context"]["sweep"]["shard"]["count"] == 4 for d in docs)
    p = spindle("merge", *outs, "--out", tmp_path / "m.json")
    assert p.returncode == 0, p.stderr
    assert len(case_statuses(json.loads((tmp_path / "m.json").read_text()))) == 1


def test_interleaved_repetitions_of_a_case_stay_in_its_shard(tmp_path):
    path = write_sweep(tmp_path, dict(GRID, repetitions=3))
    for k in (1, 2):
        out = tmp_path / f"i{k}.json"
        p = spindle("sweep", path, "--interleave", "--shard", f"{k}/2", "--out", out)
        assert p.returncode == 0, p.stderr
        doc = json.loads(out.read_text())
        counts = {}
        for r in doc["benchmarks"]:
            if r["run_type"] == "iteration":
                counts[r["case_id"]] = counts.get(r["case_id"], 0) + 1
        assert set(counts) == set(dry_run_ids(path, "--shard", f"{k}/2"))
        assert set(counts.values()) == {3}


@pytest.fixture(scope="module")
def three_shards(tmp_path_factory):
    """The grid swept unsharded and as 3 shards in 3 concurrent processes."""
    tmp = tmp_path_factory.mktemp("fleet")
    path = write_sweep(tmp, GRID)
    processes = [subprocess.Popen([BIN, "sweep", str(path), "--out", str(tmp / f"shard{k}.json")],
                                  env=environment({"SLURM_ARRAY_TASK_ID": str(k - 1), "SLURM_ARRAY_TASK_COUNT": "3"}),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in (1, 2, 3)]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    p = spindle("sweep", path, "--out", tmp / "whole.json")
    assert p.returncode == 0, p.stderr
    return tmp, [tmp / f"shard{k}.json" for k in (1, 2, 3)]


def test_three_shard_processes_merge_to_the_unsharded_case_set_then_db_and_report(three_shards):
    tmp, shards = three_shards
    p = spindle("merge", *shards, "--out", tmp / "merged.json")
    assert p.returncode == 0, p.stderr
    merged, whole = (json.loads((tmp / n).read_text()) for n in ("merged.json", "whole.json"))
    assert case_statuses(merged) == case_statuses(whole)
    in_order = lambda doc: list(dict.fromkeys(r["case_id"] for r in doc["benchmarks"]))  # noqa: E731
    assert in_order(merged) == in_order(whole), "the sweep file is at hand: records in its case order"
    iterations = [r["case_id"] for r in merged["benchmarks"] if r["run_type"] == "iteration"]
    assert len(iterations) == 2 * len(set(iterations)), "every case exactly once, with its 2 repetitions"
    context = merged["context"]
    assert context["sweep"]["hash"] == whole["context"]["sweep"]["hash"]
    assert [m["shard"] for m in context["sweep"]["merged_from"]] == ["1/3", "2/3", "3/3"]
    assert context["machine"]["fingerprint"] == whole["context"]["machine"]["fingerprint"]
    assert len(context["machines"]) == 1

    db = tmp / "fleet.db"
    p = script("db", "import", tmp / "merged.json", tmp / "whole.json", "--db", db)
    assert p.returncode == 0, p.stderr
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM run").fetchone()[0] == 2
        assert connection.execute("SELECT COUNT(*) FROM machine").fetchone()[0] == 1
        samples = connection.execute("SELECT samples FROM result").fetchall()
        assert {len(json.loads(s)) for (s,) in samples} == {2}, "both raw repetitions are kept"
    p = script("report", tmp / "merged.json", "-o", tmp / "report", "--history", db, "--format", "png")
    assert p.returncode == 0, p.stderr
    assert (tmp / "report" / "report.html").exists()
    p = script("compare", tmp / "whole.json", tmp / "merged.json")
    assert p.returncode in (0, 1), p.stderr   # a verdict, not bad input
    p = script("compare", "--db", db, "1", "2")
    assert p.returncode in (0, 1), p.stderr


def _edited(tmp, source, name, edit):
    doc = json.loads(source.read_text())
    edit(doc)
    path = tmp / name
    path.write_text(json.dumps(doc))
    return path


def test_merge_refuses_mismatched_missing_duplicated_and_doubled(three_shards, tmp_path):
    tmp, (s1, s2, s3) = three_shards
    merge = lambda *files: spindle("merge", *files, "--out", tmp_path / "m.json")  # noqa: E731
    p = merge(s1, s2)
    assert p.returncode == 2 and "shard 3/3 of machine" in p.stderr and "is missing (given: 1/3" in p.stderr
    p = merge(s1, s2, s2, s3)
    assert p.returncode == 2 and f"{s2}: shard 2/3 of machine" in p.stderr and "is duplicated" in p.stderr
    other = _edited(tmp_path, s2, "other.json", lambda d: d["context"]["sweep"].update(hash="sha256:0000"))
    p = merge(s1, other, s3)
    assert p.returncode == 2 and f"{other}: a shard of sweep fleet (sha256:0000), not of {s1}" in p.stderr
    stolen = json.loads(s1.read_text())["benchmarks"][0]
    doubled = _edited(tmp_path, s2, "doubled.json", lambda d: d["benchmarks"].append(stolen))
    p = merge(s1, doubled, s3)
    assert p.returncode == 2 and f"case {stolen['case_id']} is also in {s1}" in p.stderr
    p = merge(s1, s2, tmp / "whole.json")
    assert p.returncode == 2 and "whole.json: not a shard" in p.stderr
    p = merge(s1, s2, tmp_path / "absent.json")
    assert p.returncode == 2 and "absent.json: cannot read it" in p.stderr
    assert not (tmp_path / "m.json").exists()


def test_machines_with_different_fingerprints_are_kept_apart(three_shards, tmp_path):
    tmp, shards = three_shards

    def other_machine(doc):
        doc["context"].pop("machine")
        doc["context"]["host_name"] = "big-box"
        doc["context"]["env"]["cpu_model"] = "Another CPU"
        doc["context"]["env"]["cores"] = 64
    others = [_edited(tmp_path, s, f"other{k}.json", other_machine) for k, s in enumerate(shards)]
    out = tmp_path / "two.json"
    p = spindle("merge", *shards, *others, "--out", out)
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    names = [m["name"] for m in doc["context"]["machines"]]
    assert len(names) == 2 and "big-box" in names
    assert {r["machine"] for r in doc["benchmarks"]} == set(names)
    p = script("compare", tmp / "whole.json", out)
    assert p.returncode == 2 and "results of 2 machines" in p.stderr and "never pooled" in p.stderr
    p = script("compare", tmp / "whole.json", out, "--machine", "big-box")
    assert p.returncode in (0, 1), p.stderr
    db = tmp_path / "two.db"
    p = script("db", "import", out, "--db", db)
    assert p.returncode == 0, p.stderr
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM machine").fetchone()[0] == 2
        assert connection.execute("SELECT COUNT(*) FROM run").fetchone()[0] == 2

    # The report across machines, from the merged file and from the database: side by side, never pooled.
    for source, out_dir in (([out], tmp_path / "report"), (["--db", db], tmp_path / "db-report")):
        p = script("report", *source, "-o", out_dir, "--format", "png", "--ratio-to", "pool")
        assert p.returncode == 0, p.stderr
        table = (out_dir / "machines.md").read_text()
        assert "# Across machines: ratio to pool" in table
        assert all(name in table.splitlines()[6] for name in names), table
        assert "| tasks=10, 1 worker | pool |" in table
        assert (out_dir / "machines-spawn-million.png").exists()
        assert any(d.name.startswith("machine-") and (d / "report.html").exists() for d in out_dir.iterdir())


def test_a_shard_resumed_from_an_unsharded_file_keeps_only_its_own_cases(three_shards, tmp_path):
    tmp, _ = three_shards
    path = write_sweep(tmp, GRID)   # the same file the unsharded run used
    out = tmp_path / "resumed-2.json"
    p = spindle("sweep", path, "--shard", "2/3", "--resume", tmp / "whole.json", "--out", out)
    assert p.returncode == 0, p.stderr
    cases = {r["case_id"] for r in json.loads(out.read_text())["benchmarks"]}
    assert cases == set(dry_run_ids(path, "--shard", "2/3"))


def test_a_real_sweep_cut_into_shards_and_merged_reports_and_compares_as_the_original(tmp_path):
    """The real quick-sweep fixture cut into 3 shard files by the harness's rule, merged back: the report's
    summary is the original's and compare sees the same samples (no change, no case missing)."""
    import hashlib
    original = ROOT / "tests" / "fixtures" / "report_real_quick_sweep.json"
    document = json.loads(original.read_text())
    shards = []
    for k in (1, 2, 3):
        shard = json.loads(json.dumps(document))
        shard["context"]["sweep"]["shard"] = {"index": k, "count": 3, "source": "--shard"}
        shard["benchmarks"] = [r for r in document["benchmarks"]
                               if 1 + int(hashlib.sha256(r["case_id"].encode()).hexdigest()[:16], 16) % 3 == k]
        shards.append(tmp_path / f"shard{k}.json")
        shards[-1].write_text(json.dumps(shard))
    merged = tmp_path / "merged.json"
    p = spindle("merge", *reversed(shards), "--out", merged)
    assert p.returncode == 0, p.stderr
    assert case_statuses(json.loads(merged.read_text())) == case_statuses(document)
    for name, source in (("original", original), ("merged", merged)):
        p = script("report", source, "-o", tmp_path / name, "--format", "svg")
        assert p.returncode == 0, p.stderr
    def summary(name):   # the same lines; the merged file lists cases shard by shard, so tables differ in order
        text = (tmp_path / name / "summary.md").read_text()
        return sorted(text.replace("merged.json", "X").replace("report_real_quick_sweep.json", "X").splitlines())
    assert summary("merged") == summary("original")
    p = script("compare", original, merged)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "no regression" in p.stdout and "only in" not in p.stdout
