# scripts/ab and scripts/calibrate against a fake `spindle` (a Python script that writes Spindle results
# with realistic noise and honours SPINDLE_SLOWDOWN_PCT): interleaving order, merging, the verdict and the
# rates in process; the worktree + cmake build of HEAD~1 as a real script run in a throwaway git repo.
import json
import shutil
import subprocess
import sys
from pathlib import Path

from test_compare_fixtures import SCRIPTS, case_id, run_main_in_process
from spindle_compare.ab_command import main as ab_main
from spindle_compare.calibrate_command import main as calibrate_main

TESTS_DIR = Path(__file__).resolve().parent
FAKE_CASES = [case_id("ping-pong", "fiber", {"pairs": 1, "round-trips": 100000}, "pooled"),
              case_id("skynet", "fiber", {"leaves": 100000}, "pooled")]

FAKE_SPINDLE = '''#!{python}
# Fake spindle for the A/B tests: `sweep FILE --out OUT` writes two fiber cases, 2 repetitions each.
import json, os, sys, zlib
from pathlib import Path
sys.path.insert(0, {tests_dir!r})
from test_compare_fixtures import ALL_CASE_IDS, results_document
BUILT_IN_FACTOR = {factor}
arguments = sys.argv[1:]
assert arguments[0] == "sweep" and Path(arguments[1]).exists(), arguments
out = Path(arguments[arguments.index("--out") + 1])
slowdown = float(os.environ.get("SPINDLE_SLOWDOWN_PCT") or 0)
seed = zlib.crc32("/".join(out.parts[-3:]).encode())    # deterministic, independent of tmp paths
document = results_document(seed, factor=lambda c: BUILT_IN_FACTOR * (1 + slowdown / 100), reps=2,
                            drop=set(ALL_CASE_IDS) - set({cases!r}))
out.write_text(json.dumps(document))
with open({log!r}, "a") as log:
    log.write(f"{{out.name}} {{slowdown:g}} {{os.getcwd()}}\\n")
'''


def write_fake(path: Path, log: Path, factor: float = 1.0) -> Path:
    path.write_text(FAKE_SPINDLE.format(python=sys.executable, tests_dir=str(TESTS_DIR), factor=factor,
                                        cases=FAKE_CASES, log=str(log)))
    path.chmod(0o755)
    return path


def test_ab_with_given_binaries_interleaves_merges_and_passes_an_aa_run(tmp_path):
    log = tmp_path / "calls.log"
    fake = write_fake(tmp_path / "spindle", log)
    sweep = tmp_path / "ab.json"
    sweep.write_text("{}")
    result = run_main_in_process(ab_main, "HEAD", "--sweep", sweep, "--rounds", 4, "--base-binary", fake,
                        "--new-binary", fake, "--out-dir", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    calls = [line.split()[0] for line in log.read_text().splitlines()]
    assert calls == ["round01-base.json", "round01-new.json", "round02-new.json", "round02-base.json",
                     "round03-base.json", "round03-new.json", "round04-new.json", "round04-base.json"]
    merged = json.loads((tmp_path / "out" / "new.json").read_text())
    assert merged["context"]["ab"]["rounds"] == 4
    iterations = [r for r in merged["benchmarks"] if r["run_type"] == "iteration"]
    assert len(iterations) == 4 * 2 * len(FAKE_CASES)
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert summary.startswith("## A/B: `HEAD`") and "RESULT: no regression" in summary


def test_ab_new_env_slows_only_the_new_side_and_fails(tmp_path):
    log = tmp_path / "calls.log"
    fake = write_fake(tmp_path / "spindle", log)
    sweep = tmp_path / "ab.json"
    sweep.write_text("{}")
    result = run_main_in_process(ab_main, "HEAD", "--sweep", sweep, "--rounds", 6, "--base-binary", fake,
                        "--new-binary", fake, "--new-env", "SPINDLE_SLOWDOWN_PCT=30", "--out-dir", tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    for case in FAKE_CASES:
        assert case in result.stdout.splitlines()[-1]
    slowdowns = {line.split()[0]: line.split()[1] for line in log.read_text().splitlines()}
    assert {v for k, v in slowdowns.items() if "-base" in k} == {"0"}
    assert {v for k, v in slowdowns.items() if "-new" in k} == {"30"}


def test_ab_fails_cleanly(tmp_path):
    missing_sweep = run_main_in_process(ab_main, "HEAD", "--sweep", tmp_path / "none.json")
    assert missing_sweep.returncode == 2 and "sweep file" in missing_sweep.stderr
    sweep = tmp_path / "ab.json"
    sweep.write_text("{}")
    bad_revision = run_main_in_process(ab_main, "no-such-revision-xyz", "--sweep", sweep)
    assert bad_revision.returncode == 2 and "is not a commit" in bad_revision.stderr


def test_calibrate_reports_detection_and_false_alarm_rates(tmp_path):
    fake = write_fake(tmp_path / "spindle", tmp_path / "calls.log")
    sweep = tmp_path / "ab.json"
    sweep.write_text("{}")
    result = run_main_in_process(calibrate_main, "--binary", fake, "--sweep", sweep, "--trials", 2,
                                 "--rounds", 6,
                        "--slowdown-pct", 20, "--out-dir", tmp_path / "cal")
    assert result.returncode == 0, result.stderr
    assert "detection rate (SPINDLE_SLOWDOWN_PCT=20): 2/2 trials = 100% (95% CI 16%-100%)" in result.stdout
    assert "false-alarm rate (A/A, gate failed): 0/2 trials = 0% (95% CI 0%-84%)" in result.stdout
    report = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert report["detected"] == 2 and report["false_alarms"] == 0 and len(report["trials"]) == 2
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert len(calls) == 2 * 6 * 3   # trials x rounds x arms, one at a time
    assert {line.split()[1] for line in calls if "-slowed" in line} == {"20"}
    assert {line.split()[1] for line in calls if "-slowed" not in line} == {"0"}


CMAKE_LISTS = """cmake_minimum_required(VERSION 3.20)
project(fake_spindle NONE)
add_custom_target(spindle ALL COMMAND ${CMAKE_COMMAND} -E copy
                  ${CMAKE_SOURCE_DIR}/fake_spindle.py ${CMAKE_BINARY_DIR}/spindle)
"""
PRESETS = {"version": 6, "configurePresets": [{"name": "release", "generator": "Ninja",
                                               "binaryDir": "${sourceDir}/build/release"}]}


def test_ab_builds_head_minus_1_in_a_worktree_and_catches_its_slowdown(tmp_path):
    if not (shutil.which("cmake") and shutil.which("ninja") and shutil.which("git")):
        import pytest
        pytest.skip("needs cmake, ninja and git")
    repo, log = tmp_path / "repo", tmp_path / "calls.log"
    shutil.copytree(SCRIPTS, repo / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "CMakeLists.txt").write_text(CMAKE_LISTS)
    (repo / "CMakePresets.json").write_text(json.dumps(PRESETS))
    (repo / "harness" / "sweeps").mkdir(parents=True)
    (repo / "harness" / "sweeps" / "ab.json").write_text("{}")
    (repo / ".gitignore").write_text("/build/\n/results/\n")
    write_fake(repo / "fake_spindle.py", log, factor=1.0)

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=repo,
                       check=True, capture_output=True)
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "fast")
    write_fake(repo / "fake_spindle.py", log, factor=1.3)      # HEAD is 30% slower than HEAD~1
    git("commit", "-qam", "slow")

    result = subprocess.run([sys.executable, str(repo / "scripts" / "ab"), "HEAD~1", "--rounds", "6"],
                            cwd=repo, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    worktrees = list((repo / "build" / "ab").glob("*/src"))
    assert len(worktrees) == 1 and (worktrees[0] / "build" / "release" / "spindle").exists()
    summary = (repo / "results" / "ab" / "summary.md").read_text()
    assert all(f"| **regression** | `{case}`" in summary for case in FAKE_CASES)
    cwd_by_side = {line.split()[0].split("-")[1]: line.split()[2] for line in log.read_text().splitlines()}
    assert cwd_by_side["base.json"] == str(worktrees[0]) and cwd_by_side["new.json"] == str(repo)

    again = subprocess.run([sys.executable, str(repo / "scripts" / "ab"), "HEAD~1", "--rounds", "1",
                            "--no-build"], cwd=repo, capture_output=True, text=True, timeout=300)
    assert "reusing worktree" in again.stderr and again.returncode in (0, 1)
