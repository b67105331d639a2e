# Re-exec a script under the project's venv (<repo>/.venv) when numpy is not importable by the current
# interpreter. Promise: returns only when numpy imports; otherwise execs the venv python or exits 2.
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def ensure_numpy_or_reexec() -> None:
    """ensure_numpy_or_reexec: call first thing in a script's main module, before importing the package's
    numeric modules. Re-executes the same argv with <repo>/.venv/bin/python when needed."""
    try:
        import numpy  # noqa: F401
        import scipy  # noqa: F401
        return
    except ImportError:
        pass
    venv_python = REPO_ROOT / ".venv" / "bin" / "python"
    already_in_venv = Path(sys.prefix).resolve() == venv_python.parent.parent.resolve()
    if venv_python.exists() and not already_in_venv:
        os.execv(str(venv_python), [str(venv_python), sys.argv[0], *sys.argv[1:]])
    sys.stderr.write(f"{Path(sys.argv[0]).name}: error: numpy/scipy not importable and no usable venv at "
                     f"{venv_python.parent.parent}; run scripts/setup "
                     f"(or pip install -r scripts/requirements.txt)\n")
    sys.exit(2)
