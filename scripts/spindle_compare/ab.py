# A/B runs on one machine: build a git revision in a worktree under build/ab/, run several "arms"
# (a binary plus environment) interleaved round by round on the same sweep, and merge each arm's
# rounds into one results file. Used by scripts/ab (REV against the working tree) and scripts/calibrate.
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .venv import REPO_ROOT

DEFAULT_SWEEP = Path("harness/sweeps/ab.json")
DEFAULT_ROUNDS = 10
BUILD_JOBS = "2"
RUN_TIMEOUT_S = 900


class AbError(Exception):
    """AbError: a step of the A/B run failed; str() is one line for the user."""


@dataclass
class Arm:
    """Arm: one side of an interleaved run. env: variables to set (a value) or remove (None)."""
    name: str
    binary: Path
    cwd: Path
    env: dict[str, str | None] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        for key, value in self.env.items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = value
        return environment


def log(message: str) -> None:
    sys.stderr.write(f"ab: {message}\n")
    sys.stderr.flush()


def _git(*args: str, cwd: Path = REPO_ROOT) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise AbError(f"git {' '.join(args)}: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
    return result.stdout.strip()


def resolve_revision(revision: str) -> str:
    """resolve_revision: the full commit hash REV names (a branch, tag, HEAD~1, origin/main ...)."""
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except AbError:
        raise AbError(f"{revision!r} is not a commit in {REPO_ROOT} (fetch it first?)") from None


def prepare_worktree(commit: str) -> Path:
    """prepare_worktree: a detached worktree of `commit` at build/ab/<commit[:12]>/src, reused when it
    already exists at that commit."""
    tree = REPO_ROOT / "build" / "ab" / commit[:12] / "src"
    if (tree / ".git").exists():
        try:
            if _git("rev-parse", "HEAD", cwd=tree) == commit:
                log(f"reusing worktree {tree.relative_to(REPO_ROOT)}")
                return tree
        except AbError:
            pass
        raise AbError(f"{tree} exists but is not a worktree at {commit[:12]}: remove it "
                      f"(git worktree remove --force {tree})")
    _git("worktree", "prune")
    tree.parent.mkdir(parents=True, exist_ok=True)
    log(f"git worktree add {tree.relative_to(REPO_ROOT)} {commit[:12]}")
    _git("worktree", "add", "--detach", str(tree), commit)
    return tree


def build_spindle(source: Path, log_file: Path) -> Path:
    """build_spindle: configure (release preset, or the same settings by hand when the tree has no
    presets) and build the `spindle` target of `source` into source/build/release, -j2. Returns the binary.
    The compiler output goes to log_file; its tail is in the AbError when the build fails."""
    build_dir = source / "build" / "release"
    steps = []
    if not (build_dir / "CMakeCache.txt").exists():
        has_preset = (source / "CMakePresets.json").exists() and \
            '"release"' in (source / "CMakePresets.json").read_text()
        steps.append(["cmake", "--preset", "release"] if has_preset else
                     ["cmake", "-S", str(source), "-B", str(build_dir), "-G", "Ninja",
                      "-DCMAKE_BUILD_TYPE=Release"])
    steps.append(["cmake", "--build", str(build_dir), "-j", BUILD_JOBS, "--target", "spindle"])
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as output:
        for command in steps:
            output.write(f"$ {' '.join(command)}\n")
            output.flush()
            # A warning in an old revision must not make it unbuildable: configure without -Werror.
            environment = {**os.environ, "SPINDLE_WERROR": os.environ.get("SPINDLE_AB_WERROR", "OFF")}
            if subprocess.run(command, cwd=source, env=environment, stdout=output,
                              stderr=subprocess.STDOUT).returncode:
                tail = log_file.read_text().strip().splitlines()[-3:]
                raise AbError(f"building {source} failed ({' '.join(command[:3])}); log {log_file}: "
                              + " | ".join(tail))
    binary = build_dir / "spindle"
    if not os.access(binary, os.X_OK):
        raise AbError(f"build of {source} produced no executable {binary}")
    return binary


def run_sweep(arm: Arm, sweep: Path, out: Path, sweep_args: list[str]) -> None:
    """run_sweep: `<binary> sweep SWEEP --out OUT`; exit 1 (some case failed) is fine when OUT was written,
    the failed cases are records of their own."""
    command = [str(arm.binary), "sweep", str(sweep), "--out", str(out), *sweep_args]
    out.unlink(missing_ok=True)
    try:
        result = subprocess.run(command, cwd=arm.cwd, env=arm.environment(), capture_output=True, text=True,
                                timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise AbError(f"{arm.name}: {' '.join(command)} took more than {RUN_TIMEOUT_S} s") from None
    if result.returncode not in (0, 1) or not out.exists():
        tail = (result.stderr or result.stdout).strip().splitlines()[-2:]
        raise AbError(f"{arm.name}: {' '.join(command)} exited {result.returncode}: {' | '.join(tail)}")


def round_order(arms: list[Arm], round_index: int, order: str) -> list[Arm]:
    """round_order: 'abab' runs the arms in the same order every round; 'abba' reverses every other
    round (A B, B A, A B ...), so a slow drift of the machine does not favour one arm."""
    return list(reversed(arms)) if order == "abba" and round_index % 2 else list(arms)


def run_interleaved(arms: list[Arm], sweep: Path, rounds: int, runs_dir: Path, *, order: str = "abba",
                    sweep_args: list[str] = ()) -> dict[str, list[Path]]:
    """run_interleaved: `rounds` rounds, each running every arm once on `sweep`, one run at a time.
    Returns each arm's result files, in round order."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {arm.name: [] for arm in arms}
    started = time.monotonic()
    for round_index in range(rounds):
        for arm in round_order(arms, round_index, order):
            out = runs_dir / f"round{round_index + 1:02d}-{arm.name}.json"
            run_sweep(arm, sweep, out, list(sweep_args))
            files[arm.name].append(out)
        elapsed = time.monotonic() - started
        log(f"round {round_index + 1}/{rounds} done, {elapsed:.0f} s "
            f"(about {elapsed / (round_index + 1) * (rounds - round_index - 1):.0f} s to go)")
    return files


def merge_results(paths: list[Path], out: Path) -> None:
    """merge_results: one results file holding every record of `paths` (context of the first, plus
    context.ab listing the merged files), so each case has rounds x repetitions iteration records; each
    record gets `ab_round` (1-based index of its file) for `compare --unit round`."""
    merged = None
    for round_number, path in enumerate(paths, start=1):
        try:
            document = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise AbError(f"{path}: unreadable sweep result ({error})") from None
        for record in document.get("benchmarks", []):
            record["ab_round"] = round_number
        if merged is None:
            merged = document
            merged.setdefault("context", {})["ab"] = {"merged_files": [], "rounds": 0}
        else:
            merged["benchmarks"] += document.get("benchmarks", [])
        merged["context"]["ab"]["merged_files"].append(str(path))
        merged["context"]["ab"]["rounds"] += 1
    out.write_text(json.dumps(merged, indent=1) + "\n")


def parse_env_assignments(assignments: list[str]) -> dict[str, str]:
    environment = {}
    for assignment in assignments:
        key, separator, value = assignment.partition("=")
        if not separator or not key:
            raise AbError(f"--new-env expects KEY=VALUE, got {assignment!r}")
        environment[key] = value
    return environment


def working_tree_binary(build: bool) -> Path:
    """working_tree_binary: build/release/spindle of this checkout, (re)built first unless build is False."""
    if build:
        log("building the working tree (build/release, -j2)")
        return build_spindle(REPO_ROOT, REPO_ROOT / "build" / "ab" / "working-tree.build.log")
    binary = REPO_ROOT / "build" / "release" / "spindle"
    if not os.access(binary, os.X_OK):
        raise AbError(f"{binary} does not exist: build it (cmake --preset release && "
                      f"cmake --build build/release) or drop --no-build")
    return binary


def resolve_sweep(sweep: Path) -> Path:
    path = sweep if sweep.is_absolute() else Path.cwd() / sweep
    if not path.exists() and not sweep.is_absolute():
        path = REPO_ROOT / sweep
    if not path.exists():
        raise AbError(f"sweep file {sweep} not found")
    return path.resolve()
