# The fleet examples a team copies (docs/examples): the GitHub Actions workflow passes actionlint, the
# Kubernetes manifests pass kubernetes-validate (strict, its shipped schemas), the shard counts agree
# within each example, and the Slurm array and merge scripts run here as they would on a cluster: three
# array tasks with Slurm's variables, then the merge into a results database and the report.
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"
WORKFLOW = EXAMPLES / "github" / "spindle-fleet.yml"
MANIFESTS = EXAMPLES / "kubernetes" / "spindle-fleet.yaml"
SLURM = EXAMPLES / "slurm"


def _actionlint() -> str | None:
    local = REPO / ".venv" / "bin" / "actionlint"
    return str(local) if local.exists() else shutil.which("actionlint")


def test_the_workflow_passes_actionlint():
    actionlint = _actionlint()
    if actionlint is None:
        pytest.skip("actionlint not installed (scripts/setup installs it with `go install`)")
    p = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_workflow_shards_cover_1_to_n_and_merge_every_one():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    shards = workflow["jobs"]["shard"]["strategy"]["matrix"]["shard"]
    sweep_step = next(s for s in workflow["jobs"]["shard"]["steps"] if s.get("name") == "Sweep one shard")
    count = int(re.search(r'--shard "\$SHARD/(\d+)"', sweep_step["run"]).group(1))
    assert shards == list(range(1, count + 1))
    assert len(workflow["jobs"]["shard"]["strategy"]["matrix"]["runner"]) >= 2, "a matrix over machines too"
    assert workflow["jobs"]["merge"]["needs"] == "shard"


def test_the_kubernetes_manifests_validate_and_agree_on_the_shard_count():
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")
    documents = [d for d in yaml.safe_load_all(MANIFESTS.read_text()) if d]
    for document in documents:
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)
    jobs = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Job"}
    shards = jobs["spindle-shards"]["spec"]
    assert shards["completionMode"] == "Indexed"
    command = " ".join(shards["template"]["spec"]["containers"][0]["args"])
    assert f"--shard-count {shards['completions']}" in command and "$JOB_COMPLETION_INDEX" in command
    merge = " ".join(jobs["spindle-merge"]["spec"]["template"]["spec"]["containers"][0]["args"])
    assert re.findall(r"/results/shard-(\d+)\.json", merge) == [str(i) for i in range(shards["completions"])]


def test_a_broken_manifest_is_rejected():
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")
    job = next(d for d in yaml.safe_load_all(MANIFESTS.read_text()) if d and d["kind"] == "Job")
    job["spec"]["completions"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)


def test_the_slurm_array_and_merge_scripts_run_the_fleet_path(tmp_path):
    binary = os.environ.get("SPINDLE_BIN", str(REPO / "build" / "release" / "spindle"))
    if not os.path.exists(binary):
        pytest.skip(f"no spindle binary at {binary}")
    header = (SLURM / "spindle-array.sbatch").read_text()
    first, last = map(int, re.search(r"#SBATCH --array=(\d+)-(\d+)", header).groups())
    sweep = tmp_path / "tiny.json"
    sweep.write_text(json.dumps({"name": "tiny", "repetitions": 2, "workers": [1], "runtimes": ["thread", "pool"],
                                 "workloads": {"spawn-million": {"params": {"tasks": [10, 20, 30]}}}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "TEST_SHARD", "JOB_COMPLETION"))}
    env |= {"SPINDLE": binary, "SWEEP": str(sweep), "RESULTS": str(tmp_path / "fleet"),
            "SPINDLE_DB": str(tmp_path / "fleet.db"), "MPLBACKEND": "Agg",
            "SLURM_ARRAY_TASK_MIN": str(first), "SLURM_ARRAY_TASK_COUNT": str(last - first + 1)}
    for task in range(first, last + 1):
        p = subprocess.run(["bash", str(SLURM / "spindle-array.sbatch")], cwd=REPO, capture_output=True, text=True,
                           env=env | {"SLURM_ARRAY_TASK_ID": str(task)}, timeout=120)
        assert p.returncode == 0, p.stderr
        assert f"shard {task - first + 1}/{last - first + 1} from SLURM_ARRAY_TASK_ID={task}" in p.stderr
    p = subprocess.run(["bash", str(SLURM / "spindle-merge.sbatch")], cwd=REPO, capture_output=True, text=True,
                       env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    merged = json.loads((tmp_path / "fleet" / "merged.json").read_text())
    assert len({r["case_id"] for r in merged["benchmarks"]}) == 6
    assert (tmp_path / "fleet" / "report" / "report.html").exists()
    assert "over 1 runs" in p.stdout
