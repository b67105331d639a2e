# The noisy / bimodal rule (scripts/spindle_report/noise.py) on the sample sets harness/noise.h is tested
# on (tests/fixtures/noise_samples.json), and the report showing it: a cv column next to every median, the
# flags in summary.md and report.html, hatched and annotated bars; every workload's figure in its unit.
from __future__ import annotations

import contextlib
import io
import json
import re
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import REPO_ROOT
from spindle_report import charts, cli, results
from spindle_report.noise import noise_of
from spindle_report.tables import cases_table, headline_table, noise_table
from spindle_report.units import figure_of, format_figure

FIXTURES = REPO_ROOT / "tests" / "fixtures"
SAMPLE_SETS = json.loads((FIXTURES / "noise_samples.json").read_text())["cases"]
SKYNET_CLUSTERS = SAMPLE_SETS[0]["samples"]  # the example: ~100–130 ms and ~176–197 ms


@pytest.mark.parametrize("case", SAMPLE_SETS, ids=[c["name"] for c in SAMPLE_SETS])
def test_shared_sample_sets_get_the_same_verdict_as_the_harness(case):
    noise = noise_of(case["samples"])
    assert (noise.cv or 0.0) == pytest.approx(case["cv"], abs=1e-6)
    assert noise.noisy is case["noisy"]
    assert noise.bimodal is case["bimodal"]


def test_flag_reads_as_the_harness_prints_it():
    noise = noise_of(SKYNET_CLUSTERS)
    assert noise.flag == "NOISY (cv 26%) BIMODAL"
    assert noise.gap == (129.7, 176.2)
    quiet = noise_of([92.1, 95.3, 97.4, 99.2, 100.1, 101.0, 102.6, 104.7, 108.1])
    assert quiet.flag == "" and not quiet.flagged
    assert noise_of([5.0]).cv is None and noise_of([]).samples == 0


def planted(tmp_path):
    """report_small_multi_runtime.json with fiber skynet's repetitions replaced by the two clusters."""
    document = json.loads((FIXTURES / "report_small_multi_runtime.json").read_text())
    target = "skynet/fiber/leaves:100000/workers:2/stack_policy:pooled"
    kept = [r for r in document["benchmarks"] if r.get("case_id") != target]
    template = next(r for r in document["benchmarks"] if r.get("case_id") == target and r["run_type"] == "iteration")
    document["benchmarks"] = kept + [dict(template, ns_per_op=v, repetition_index=i, repetitions=len(SKYNET_CLUSTERS))
                                     for i, v in enumerate(SKYNET_CLUSTERS)]
    path = tmp_path / "planted.json"
    path.write_text(json.dumps(document))
    return path, target


def test_tables_put_a_cv_column_next_to_every_median_and_flag_the_bimodal_case(tmp_path):
    path, target = planted(tmp_path)
    loaded = results.load(path)
    head = headline_table(loaded)
    assert head.header[1::2] == loaded.workloads and set(head.header[2::2]) == {"cv"}
    fiber = next(row for row in head.rows if row[0] == "fiber (pooled)")
    skynet = head.header.index("skynet")
    assert fiber[skynet] == "130 ns" and fiber[skynet + 1] == "25.6% ⚠ NOISY ⚠ BIMODAL"
    flagged = noise_table(loaded)
    assert [row[0] for row in flagged.rows] == [target]
    assert flagged.rows[0][4] == "102 ns–130 ns and 176 ns–197 ns"
    everything = cases_table(loaded)
    assert everything.header[3:5] == ["median", "cv"]
    assert next(row for row in everything.rows if row[0] == target)[4].endswith("⚠ BIMODAL")


def render(path, output):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main([str(path), "-o", str(output), "--format", "svg"]) == 0


def test_summary_html_and_bars_show_the_flag(tmp_path):
    path, target = planted(tmp_path)
    render(path, tmp_path / "out")
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "### Medians not to trust (1)" in summary
    assert f"| {target} | 130 ns | 25.6% ⚠ NOISY ⚠ BIMODAL |" in summary
    page = (tmp_path / "out" / "report.html").read_text()
    assert 'id="noise">Medians not to trust (1)' in page
    assert re.search(r'<td class="num flag">25\.6% ⚠ NOISY ⚠ BIMODAL</td>', page)
    svg = ElementTree.parse(tmp_path / "out" / "bars-skynet.svg").getroot()
    texts = ["".join(e.itertext()).strip() for e in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "cv 26% · bimodal" in texts and "noisy (cv > 10%) or bimodal" in texts
    drawn = {c.name: c for c in charts.build_charts(results.load(path))}
    hatches = [p.get_hatch() for p in drawn["bars-skynet"].figure.axes[0].patches]
    assert hatches.count("xx") == 1, hatches
    assert "hatched bars (1)" in drawn["bars-skynet"].caption


def test_a_quiet_report_flags_nothing():
    loaded = results.load(FIXTURES / "report_small_multi_runtime.json")
    assert noise_table(loaded).rows == []
    assert all("⚠" not in cell for row in headline_table(loaded).rows for cell in row)


def test_each_workload_is_reported_in_its_own_unit(tmp_path):
    assert figure_of("memory-per-task").counter == "rss_bytes_per_task"
    assert figure_of("idle-connections").counter == "rss_bytes_per_connection"
    assert not figure_of("echo").lower_is_better
    assert figure_of("a-workload-added-later").counter == "ns_per_op"
    assert format_figure("per_s", 73312.0) == "73.3 k/s" and format_figure("bytes", 2180.0) == "2.13 KiB"
    render(FIXTURES / "report_net_echo_small.json", tmp_path / "net")
    summary = (tmp_path / "net" / "summary.md").read_text()
    assert "echo: round trips per second (higher is better); idle-connections: RSS bytes per connection" in summary
    head = headline_table(results.load(FIXTURES / "report_net_echo_small.json"))
    echo, idle = head.header.index("echo"), head.header.index("idle-connections")
    assert all(row[echo].endswith("/s") and row[idle].endswith("B") for row in head.rows), head.rows
    svg = ElementTree.parse(tmp_path / "net" / "bars-echo.svg").getroot()
    texts = " ".join("".join(e.itertext()) for e in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "higher is better" in texts and "ns per op" not in texts


def test_compare_shows_each_sides_cv_and_flags_without_changing_verdicts():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "compare"),
                             str(FIXTURES / "compare_base.json"), str(FIXTURES / "compare_noise.json")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("verdict"))
    assert header.split()[:7] == ["verdict", "case", "BASE", "cv", "NEW", "cv", "ratio"]
    # fiber memory-per-task in BASE: 8 repetitions at ~8.5 KB and 2 at ~9.6 KB
    row = next(line for line in result.stdout.splitlines() if "memory-per-task/fiber/" in line)
    assert row.split()[:5] == ["unchanged", "memory-per-task/fiber/tasks:10000/workers:2/stack_policy:pooled", "8543",
                               "B/task", "5.3%"] and "BIMODAL" in row
    assert result.stdout.strip().splitlines()[-1].startswith("RESULT: no regression")


def test_a_workload_missing_from_the_table_is_read_by_what_its_records_declare(tmp_path):
    document = json.loads((FIXTURES / "report_single_runtime.json").read_text())
    record = dict(document["benchmarks"][0], workload="steps-added-later", case_id="steps-added-later/fiber/workers:2",
                  main_figure="steps_per_second", main_figure_unit="steps/s", steps_per_second=12500.0)
    document["benchmarks"].append(record)
    path = tmp_path / "declared.json"
    path.write_text(json.dumps(document))
    loaded = results.load(path)
    declared = figure_of("steps-added-later")
    assert (declared.counter, declared.unit, declared.label, declared.lower_is_better) == \
        ("steps_per_second", "per_s", "steps per second", False)
    assert next(c for c in loaded.cases if c.workload == "steps-added-later").median == 12500.0
    head = headline_table(loaded)
    assert head.rows[0][head.header.index("steps-added-later")] == "12.5 k/s"
