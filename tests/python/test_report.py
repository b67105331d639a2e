# scripts/report's outputs for every tests/fixtures/report_*.json: exactly the expected chart files in PNG
# and SVG, charts naming every runtime present with the medians of their repetitions, a report.html that
# references nothing outside itself (and whose images decode in headless Chromium), and summary.md tables.
from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import re
import shutil
import statistics
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from spindle_report import charts, cli, results
from spindle_report.units import format_figure

FIXTURE_PATHS = sorted((REPO_ROOT / "tests" / "fixtures").glob("report_*.json"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


# --- what the fixture itself says, read here independently of spindle_report ---------------------------

class RawCase:
    def __init__(self, record: dict):
        self.workload, self.runtime = record["workload"], record["runtime"]
        self.label = record["runtime"] + (f" ({record['stack_policy']})" if record.get("stack_policy") else "")
        self.params, self.workers = record.get("params", {}), record.get("workers")
        self.statuses: list[str] = []
        self.values: list[float] = []

    @property
    def ok(self) -> bool:
        return bool(self.values) and set(self.statuses) == {"ok"}

    def dimension(self, name: str):
        return self.workers if name == "workers" else self.params.get(name)


def raw_cases(path: Path) -> dict[str, RawCase]:
    cases: dict[str, RawCase] = {}
    for record in json.loads(path.read_text())["benchmarks"]:
        if record.get("run_type") == "aggregate":
            continue
        case = cases.setdefault(record["case_id"], RawCase(record))
        case.statuses.append(record["status"])
        figure = FIGURES.get(record["workload"], ("ns_per_op", "ns"))[0]
        if record["status"] == "ok":
            case.values.append(record[figure])
    return cases


# Each workload's main figure and unit, as workloads/*.h declare them (main_figure); ns per op otherwise.
FIGURES = {"memory-per-task": ("rss_bytes_per_task", "bytes"), "idle-connections": ("rss_bytes_per_connection", "bytes"),
           "echo": ("round_trips_per_second", "per_s"),
           "deep-stack": ("rss_bytes_per_parked_task_after_deep", "bytes")}

FIGURES.update({"blocking-syscall": ("steps_per_second", "per_s"), "hog-latency": ("lateness_p99_ns", "ns")})


def unit_of(workload: str) -> str:
    return FIGURES.get(workload, ("ns_per_op", "ns"))[1]


def has_scaling(cases: list[RawCase], dimension: str) -> bool:
    """Some runtime has two ok cases differing only in `dimension`."""
    groups = defaultdict(set)
    for c in cases:
        if c.ok and c.dimension(dimension) is not None:
            others = tuple(sorted((k, v) for k, v in c.params.items() if k != dimension))
            others += (("workers", c.workers),) if dimension != "workers" else ()
            groups[(c.label, others)].add(c.dimension(dimension))
    return any(len(values) >= 2 for values in groups.values())


def expected_chart_names(path: Path) -> set[str]:
    cases = list(raw_cases(path).values())
    workloads = {c.workload for c in cases}
    names = {f"bars-{w}" for w in workloads} | {"status-matrix"}
    if "memory-per-task" in workloads:
        names.add("memory-per-task-vs-reference")
    ok_in = {w: {c.label for c in cases if c.workload == w and c.ok} for w in workloads}
    if ok_in.get("context-switch-storm", set()) & ok_in.get("memory-per-task", set()):
        names.add("tradeoff-memory-vs-switch")
    for w in workloads:
        mine = [c for c in cases if c.workload == w]
        dimensions = {k for c in mine for k in c.params} | {"workers"}
        for d in dimensions:
            if has_scaling(mine, d):
                names.add(f"scaling-{w}-{d}")
                if d == "workers" and unit_of(w) == "ns":
                    names.add(f"speedup-{w}")
    if any(c.workload == "deep-stack" and c.ok for c in cases):
        names.add("deep-stack-rss-after-deep")
    echo = [c for c in cases if c.workload == "echo" and c.ok]
    if echo:
        names.add("net-echo-latency")
        if len({c.params.get("connections") for c in echo}) >= 2:
            names.add("net-echo-throughput")
    for workload, chart in (("hog-latency", "blocking-hog-lateness"), ("blocking-syscall", "blocking-syscall-steps")):
        if any(c.workload == workload and c.ok for c in cases):
            names.add(chart)
    return names


def svg_texts(path: Path) -> list[str]:
    root = ElementTree.parse(path).getroot()
    return ["".join(element.itertext()).strip() for element in root.iter("{http://www.w3.org/2000/svg}text")]


# --- the report, rendered once per fixture --------------------------------------------------------------

@pytest.fixture(scope="module")
def render(tmp_path_factory):
    """render(path) runs the report once per fixture file (in process) and returns (output dir, stdout)."""
    done: dict[Path, tuple[Path, str]] = {}

    def render_once(path: Path) -> tuple[Path, str]:
        if path not in done:
            output = tmp_path_factory.mktemp(path.stem)
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = cli.main([str(path), "-o", str(output)])
            assert code == 0, stderr.getvalue()
            done[path] = (output, stdout.getvalue())
        return done[path]

    return render_once


@pytest.fixture(scope="module", params=FIXTURE_PATHS, ids=[p.name for p in FIXTURE_PATHS])
def rendered(request, render):
    output, stdout = render(request.param)
    return request.param, output, stdout


def test_there_are_report_fixtures():
    assert len(FIXTURE_PATHS) >= 3


def test_writes_exactly_the_expected_files(rendered):
    path, output, stdout = rendered
    expected = {f"{n}.{fmt}" for n in expected_chart_names(path) for fmt in ("png", "svg")}
    assert {p.name for p in output.iterdir()} == expected | {"report.html", "summary.md"}
    assert stdout.strip().splitlines()[-1] == str(output / "report.html")


def test_every_chart_file_decodes(rendered):
    _, output, _ = rendered
    for png in output.glob("*.png"):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", png.name
        width, height = struct.unpack(">II", data[16:24])
        assert width > 300 and height > 200, png.name
    for svg in output.glob("*.svg"):
        assert ElementTree.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg", svg.name


def test_charts_name_every_runtime_present(rendered):
    path, output, _ = rendered
    cases = list(raw_cases(path).values())
    all_labels = {c.label for c in cases}
    matrix = set(svg_texts(output / "status-matrix.svg"))
    assert all_labels <= matrix and {c.workload for c in cases} <= matrix
    for workload in {c.workload for c in cases}:
        labels = {c.label for c in cases if c.workload == workload}
        texts = " ".join(svg_texts(output / f"bars-{workload}.svg"))
        assert all(label in texts for label in labels), (workload, labels)
    for scaling in output.glob("scaling-*.svg"):
        workload = next(w for w in {c.workload for c in cases} if scaling.stem.startswith(f"scaling-{w}-"))
        texts = " ".join(svg_texts(scaling))
        assert all(c.label in texts for c in cases if c.workload == workload), scaling.name
    memory = output / "memory-per-task-vs-reference.svg"
    if memory.exists():
        texts = " ".join(svg_texts(memory))
        assert all(c.label in texts for c in cases if c.workload == "memory-per-task")
        assert "textbook reference, not measured" in texts
        assert {"8 MiB", "1 MiB", "2 KiB"} <= set(svg_texts(memory))


def test_bar_labels_are_medians_of_the_repetitions(rendered):
    path, output, _ = rendered
    cases = list(raw_cases(path).values())
    for workload in {c.workload for c in cases}:
        texts = set(svg_texts(output / f"bars-{workload}.svg"))
        for label in {c.label for c in cases if c.workload == workload}:
            mine = [c for c in cases if c.workload == workload and c.label == label]
            medians = {format_figure(unit_of(workload), statistics.median(c.values)) for c in mine if c.ok}
            statuses = {s for c in mine for s in c.statuses if s != "ok"} | {"not run"}
            # a bar labelled with one of its medians, or (not ok at the compared configuration) a status
            assert medians & texts or (statuses & texts), (workload, label, medians)
            if len({tuple(sorted(c.params.items())) for c in cases if c.workload == workload}) == 1 and medians:
                assert medians & texts, (workload, label, medians)  # one configuration: the bar is there


class References(HTMLParser):
    """Collects every URL-bearing attribute and every element that could load something."""

    URL_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "formaction", "background"}

    def __init__(self):
        super().__init__()
        self.urls, self.loading_tags, self.images, self.styles = [], [], [], []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.urls += [v for k, v in attrs if k in self.URL_ATTRIBUTES and v is not None]
        if tag in ("link", "script", "iframe", "object", "embed", "base", "frame"):
            self.loading_tags.append(tag)
        if tag == "img":
            self.images.append(attributes)
        if "style" in attributes:
            self.styles.append(attributes["style"])
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag):
        self._in_style = False


def test_report_html_references_nothing_outside_itself(rendered):
    _, output, _ = rendered
    page = References()
    page.feed((output / "report.html").read_text(encoding="utf-8"))
    assert page.loading_tags == []
    assert page.urls and all(url.startswith("data:") or url.startswith("#") for url in page.urls)
    assert not any("url(" in css or "@import" in css for css in page.styles)
    charts_written = sorted(p.stem for p in output.glob("*.png"))
    assert sorted(img["data-chart"] for img in page.images) == charts_written
    for img in page.images:  # each inline image is the chart file itself
        header, payload = img["src"].split(",", 1)
        assert header == "data:image/png;base64"
        assert base64.b64decode(payload) == (output / f"{img['data-chart']}.png").read_bytes()


def test_report_html_has_the_environment_and_status_matrix(rendered):
    path, output, _ = rendered
    page = (output / "report.html").read_text(encoding="utf-8")
    context = json.loads(path.read_text())["context"]
    for value in (context.get("host_name"), context.get("env", {}).get("cpu_model"), context.get("date")):
        if value:
            assert html.escape(str(value)) in page
    assert "<h2>Environment</h2>" in page and "<h2>Status matrix</h2>" in page
    for case_id, case in raw_cases(path).items():
        assert html.escape(case_id) in page
        assert all(status in page for status in case.statuses)


def test_summary_md_has_a_row_per_runtime_and_lists_every_case_not_ok(rendered):
    path, output, _ = rendered
    summary = (output / "summary.md").read_text(encoding="utf-8")
    cases = raw_cases(path)
    workloads = {c.workload for c in cases.values()}
    for label in {c.label for c in cases.values()}:
        assert len(re.findall(rf"^\| {re.escape(label)} \|", summary, re.M)) == 2, label  # figures and statuses
    header_rows = [line for line in summary.splitlines() if line.startswith("| runtime |")]
    assert len(header_rows) == 2 and all(all(w in row for w in workloads) for row in header_rows)
    not_ok = [case_id for case_id, c in cases.items() if not c.ok]
    if len(not_ok) <= 40:
        assert all(f"| {case_id} |" in summary for case_id in not_ok)


def test_report_html_images_decode_in_headless_chromium(rendered, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/setup installs Debian's chromium)")
    _, output, _ = rendered
    probe = ("<script>window.addEventListener('load', function () { var seen = [];"
             " document.querySelectorAll('img').forEach(function (img) {"
             " seen.push([img.dataset.chart, img.complete, img.naturalWidth, img.naturalHeight]); });"
             " var pre = document.createElement('pre'); pre.id = 'image-check';"
             " pre.textContent = JSON.stringify(seen); document.body.appendChild(pre); });</script>")
    page = tmp_path / "report.html"
    page.write_text((output / "report.html").read_text(encoding="utf-8").replace("</body>", probe + "</body>"),
                    encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        browser = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=90)
    found = re.search(r'<pre id="image-check">(.*?)</pre>', browser.stdout, re.S)
    assert found, f"no probe output; chromium exit {browser.returncode}: {browser.stderr[-500:]}"
    images = json.loads(html.unescape(found.group(1)))
    assert sorted(chart for chart, *_ in images) == sorted(p.stem for p in output.glob("*.png"))
    for chart, complete, width, height in images:
        assert complete and width > 0 and height > 0, chart


# --- fixture-specific behaviour ---------------------------------------------------------------------------

def fixture_path(name: str) -> Path:
    return REPO_ROOT / "tests" / "fixtures" / name


def built_charts(name: str) -> dict[str, charts.Chart]:
    return {c.name: c for c in charts.build_charts(results.load(fixture_path(name)))}


def test_bars_use_log_scale_only_when_runtimes_differ_more_than_tenfold():
    small = built_charts("report_small_multi_runtime.json")
    assert small["bars-spawn-million"].figure.axes[0].get_yscale() == "log"       # thread ~14 µs, fiber ~120 ns
    assert small["bars-memory-per-task"].figure.axes[0].get_yscale() == "log"     # fiber copy vs thread
    assert small["bars-ping-pong"].figure.axes[0].get_yscale() == "log"
    single = built_charts("report_single_runtime.json")
    assert all(single[f"bars-{w}"].figure.axes[0].get_yscale() == "linear"
               for w in ("spawn-million", "ping-pong", "context-switch-storm", "memory-per-task"))


def test_sweep_scaling_axes_are_log_where_the_range_spans_a_decade():
    sweep = built_charts("report_sweep_scaling.json")
    tasks = sweep["scaling-spawn-million-tasks"].figure.axes[0]
    assert tasks.get_xscale() == "log" and tasks.get_yscale() == "log"            # 1k..1M tasks; thread vs fiber
    workers = sweep["scaling-skynet-workers"].figure.axes[0]
    assert workers.get_xscale() == "linear"                                        # 1..4 workers


def test_speedup_chart_shows_median_ratios_against_the_fewest_workers(render):
    path = fixture_path("report_sweep_scaling.json")
    output, _ = render(path)
    texts = set(svg_texts(output / "speedup-skynet.svg"))
    cases = [c for c in raw_cases(path).values() if c.workload == "skynet" and c.label == "go" and c.ok]
    by_workers = {c.workers: statistics.median(c.values) for c in cases}
    for workers, median in by_workers.items():
        assert f"{by_workers[1] / median:.2f}×" in texts, workers
    assert "thread" not in " ".join(texts)  # one worker count only: no speedup line


def test_sweep_statuses_all_reach_the_matrix_and_summary(render):
    output, _ = render(fixture_path("report_sweep_scaling.json"))
    summary = (output / "summary.md").read_text()
    matrix = " ".join(svg_texts(output / "status-matrix.svg"))
    for status in ("unsupported", "limit", "failed", "timeout", "crashed"):
        assert status in summary and status in matrix, status


def test_one_repetition_says_there_are_no_error_bars():
    single = built_charts("report_single_runtime.json")
    legend = [t.get_text() for t in single["bars-ping-pong"].figure.axes[0].get_legend().get_texts()]
    assert legend == ["1 repetition: no error bars"]
    small = built_charts("report_small_multi_runtime.json")
    legend = [t.get_text() for t in small["bars-ping-pong"].figure.axes[0].get_legend().get_texts()]
    assert legend == ["error bars: min–max over 5 repetitions"]


def test_tradeoff_has_one_point_per_runtime_in_both_workloads():
    small = built_charts("report_small_multi_runtime.json")["tradeoff-memory-vs-switch"]
    axes = small.figure.axes[0]
    assert axes.get_xscale() == axes.get_yscale() == "log"
    assert [s.label for s in small.series] == ["thread", "fiber (pooled)", "fiber (copy)", "boost-fiber", "go"]
    single = built_charts("report_single_runtime.json")["tradeoff-memory-vs-switch"]
    assert [s.label for s in single.series] == ["fiber (pooled)"]


def test_every_chart_is_titled_with_machine_and_date():
    for name in ("report_small_multi_runtime.json", "report_sweep_scaling.json"):
        context = json.loads(fixture_path(name).read_text())["context"]
        for chart in built_charts(name).values():
            title = chart.figure.get_suptitle()
            assert context["host_name"] in title and context["env"]["cpu_model"] in title, chart.name
            assert context["date"][:10] in title, chart.name
