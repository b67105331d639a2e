# scripts/report on input it must refuse or survive: exit 2 with one line on stderr for files that are not
# Spindle JSON, unreadable or empty of records; the loader's grouping, medians and statuses; --format and the
# default output directory, through the real script (with its re-exec into the project's .venv).
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from spindle_report import cli
from spindle_report.results import ResultsError, load, parse

REPORT = REPO_ROOT / "scripts" / "report"
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SMALL = FIXTURES / "report_small_multi_runtime.json"
SINGLE = FIXTURES / "report_single_runtime.json"


def run_report(*args, python: str | None = None) -> subprocess.CompletedProcess:
    command = ([python, str(REPORT)] if python else [str(REPORT)]) + [str(a) for a in args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


def one_record(**changes) -> dict:
    record = {"name": "skynet/fiber/leaves:1000/workers:2/manual_time", "run_type": "iteration",
              "repetitions": 1, "repetition_index": 0, "case_id": "skynet/fiber/leaves:1000/workers:2",
              "runtime": "fiber", "workload": "skynet", "params": {"leaves": 1000}, "workers": 2,
              "status": "ok", "checksum_ok": True, "ns_per_op": 120.0, "real_time": 0.13, "time_unit": "ms"}
    record.update(changes)
    return record


def document(*records, context=None) -> dict:
    return {"context": context if context is not None else {"spindle_schema": 1, "host_name": "h"},
            "benchmarks": list(records)}


BAD_INPUTS = {
    "not-json": ("{ this is not json", "not JSON"),
    "json-array": (json.dumps([1, 2]), "no 'benchmarks' array"),
    "no-benchmarks": (json.dumps({"context": {"spindle_schema": 1}}), "no 'benchmarks' array"),
    "google-benchmark-only": (json.dumps({"context": {"date": "x", "num_cpus": 2},
                                          "benchmarks": [{"name": "BM_x", "real_time": 1}]}),
                              "no context.spindle_schema"),
    "schema-not-a-number": (json.dumps(document(one_record(), context={"spindle_schema": "one"})),
                            "spindle_schema"),
    "empty-benchmarks": (json.dumps(document()), "no Spindle records"),
    "records-without-workload": (json.dumps(document({"name": "BM_x", "real_time": 1})), "no Spindle records"),
    "binary": (None, "cannot read"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_input_that_is_not_spindle_json_exits_2_with_one_line(name, tmp_path):
    text, expected = BAD_INPUTS[name]
    path = tmp_path / f"{name}.json"
    if text is None:
        path.write_bytes(b"\xff\xfe\x00garbage\x80")
    else:
        path.write_text(text)
    output = tmp_path / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main([str(path), "-o", str(output)])
    assert code == 2
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("report: ") and expected in lines[0], lines
    assert str(path) in lines[0]
    assert stdout.getvalue() == "" and not output.exists()


def test_the_script_exits_2_for_a_missing_file_and_a_directory(tmp_path):
    for path in (tmp_path / "missing.json", tmp_path):
        result = run_report(path, "-o", tmp_path / "out")
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "cannot read" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_the_script_refuses_an_unknown_format_and_a_missing_argument(tmp_path):
    result = run_report(SINGLE, "--format", "gif", "-o", tmp_path)
    assert result.returncode == 2 and "formats must be" in result.stderr
    assert run_report().returncode == 2


def test_the_script_reexecs_into_the_venv_and_writes_next_to_the_results(tmp_path):
    """Run with a python that may lack matplotlib (the system one when present): the script must find the
    project's .venv itself. Without -o the report goes to <stem>-report/ beside the results; --format svg
    writes only SVG charts and report.html inlines them."""
    venv_python = REPO_ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists():
        pytest.skip("no .venv: scripts/setup creates it")
    system_python = shutil.which("python3", path=os.defpath) or sys.executable
    results = tmp_path / "quick.json"
    results.write_text(json.dumps(document(one_record(), one_record(repetition_index=1, ns_per_op=130.0))))
    result = run_report(results, "--format", "svg", python=system_python)
    assert result.returncode == 0, result.stderr
    report_dir = tmp_path / "quick-report"
    assert result.stdout.splitlines()[-1] == str(report_dir / "report.html")
    assert (report_dir / "summary.md").exists()
    svgs = list(report_dir.glob("*.svg"))
    assert svgs and not list(report_dir.glob("*.png"))
    page = (report_dir / "report.html").read_text()
    assert page.count('src="data:image/svg+xml;base64,') == len(svgs)


def test_cases_group_records_and_take_the_median_of_ok_repetitions():
    loaded = load(SMALL)
    raw = json.loads(SMALL.read_text())["benchmarks"]
    iterations = [r for r in raw if r["run_type"] == "iteration"]
    assert len(loaded.cases) == len({r["case_id"] for r in iterations})
    medians = {r["case_id"]: r for r in raw if r.get("aggregate_name") == "median"}
    checked = 0
    for case in loaded.cases:
        if case.ok:  # our median of the iterations equals the file's own median aggregate
            field = "rss_bytes_per_task" if case.workload == "memory-per-task" else "ns_per_op"
            assert case.median == pytest.approx(medians[case.case_id][field], rel=1e-5)
            assert len(case.values) == 5
            checked += 1
    assert checked == len(medians) > 0
    assert {c.status for c in loaded.cases} == {"ok", "unsupported"}


def test_a_case_takes_its_worst_status_and_a_bad_checksum_is_a_failure():
    mixed = parse(document(one_record(), one_record(repetition_index=1, status="timeout", reason="slow",
                                                    ns_per_op=0)), Path("x.json"))
    (case,) = mixed.cases
    assert case.status == "timeout" and case.reason == "slow" and not case.ok
    wrong = parse(document(one_record(checksum_ok=False)), Path("x.json"))
    assert wrong.cases[0].status == "failed" and "checksum" in wrong.cases[0].reason


def test_only_aggregates_still_give_a_median():
    aggregate = one_record(run_type="aggregate", aggregate_name="median", ns_per_op=99.0)
    mean = one_record(run_type="aggregate", aggregate_name="mean", ns_per_op=500.0)
    (case,) = parse(document(mean, aggregate), Path("x.json")).cases
    assert case.ok and case.median == 99.0 and case.values == []


def test_foreign_records_are_skipped_and_counted():
    loaded = parse(document({"name": "BM_other", "real_time": 3}, one_record()), Path("x.json"))
    assert loaded.skipped_records == 1 and len(loaded.cases) == 1


def test_results_error_is_one_line():
    with pytest.raises(ResultsError) as error:
        parse({"benchmarks": []}, Path("plain.json"))
    assert "\n" not in str(error.value) and "plain.json" in str(error.value)


ODD_BUT_VALID = {
    "everything-unsupported": [one_record(status="unsupported", reason="no", ns_per_op=0),
                               one_record(case_id="skynet/pool/leaves:1000/workers:2", runtime="pool",
                                          status="limit", reason="too many")],
    "unknown-workload-and-status": [one_record(workload="fizzbuzz", case_id="fizzbuzz/fiber", params={}),
                                    one_record(case_id="skynet/go/leaves:1000/workers:2", runtime="go",
                                               status="exploded", reason="?")],
    "ok-without-a-figure": [{k: v for k, v in one_record().items() if k not in ("ns_per_op", "real_time")}],
    "memory-only-one-value": [one_record(workload="memory-per-task", case_id="m/thread", runtime="thread",
                                         params={"tasks": 10}, rss_bytes_per_task=9000.0)],
    "no-workers-no-params": [one_record(workers=None, params=None, case_id=None)],
}


@pytest.mark.parametrize("name", ODD_BUT_VALID)
def test_odd_but_valid_results_still_render(name, tmp_path):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document(*ODD_BUT_VALID[name])))
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main([str(path), "-o", str(tmp_path / "out"), "--format", "png"])
    assert code == 0, stderr.getvalue()
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"report.html", "summary.md", "status-matrix.png"} <= written
    records = ODD_BUT_VALID[name]
    assert {f"bars-{r['workload']}.png" for r in records} <= written
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert all(f"| {r['runtime']} |" in summary for r in records)
