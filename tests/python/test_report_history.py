"""scripts/report --history: trend charts from a history file are written and embedded in report.html."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_history_trend_charts_are_written_and_embedded(tmp_path):
    history = tmp_path / "history.json"
    for name in ("compare_base.json", "compare_noise.json", "compare_fiber_slower.json"):
        subprocess.run([sys.executable, str(ROOT / "scripts" / "history"), "add", "--file", str(history),
                        str(ROOT / "tests" / "fixtures" / name)], check=True, capture_output=True)
    out = tmp_path / "report"
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "report"), str(ROOT / "tests" / "fixtures" / "compare_base.json"),
                        "-o", str(out), "--history", str(history), "--format", "png"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    trends = sorted(out.glob("trend-*.png"))
    assert trends, list(out.iterdir())
    html = (out / "report.html").read_text()
    assert html.count("Trend: ") >= len(trends)
