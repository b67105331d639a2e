# The report across machines: a results file merged from several machines (`spindle merge`, each record
# naming its machine) or the latest run of each machine in the results database, split per machine (never
# pooled), and the same workload drawn on every machine side by side as ratios to one chosen runtime at the
# same params and worker setting, so a 2-core VM and a 64-core box read on one chart. Writes one chart
# per workload and machines.md (a Markdown table per workload).
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from .charts import Chart
from .results import Results, Series, parse


def split_by_machine(document: dict, path: Path) -> list[tuple[str, Results]]:
    """split_by_machine: (machine name, its results) per machine of a results document, in file order."""
    context = document["context"]
    machines = [m for m in context.get("machines") or [] if isinstance(m, dict)]
    if len(machines) <= 1:
        name = (machines[0].get("name") if machines else None) or (context.get("machine") or {}).get("name") \
            or context.get("host_name") or "machine"
        return [(str(name), parse(document, path))]
    out = []
    for machine in machines:
        records = [r for r in document["benchmarks"]
                   if isinstance(r, dict) and r.get("machine_fingerprint") == machine.get("fingerprint")]
        machine_context = dict(context, env=machine.get("env") or {}, host_name=machine.get("name"),
                               date=machine.get("date") or context.get("date"), machine=machine)
        machine_context.pop("machines", None)
        out.append((str(machine.get("name")), parse({"context": machine_context, "benchmarks": records}, path)))
    return out


@dataclass(frozen=True)
class Ratio:
    """Ratio: one series' median over the reference runtime's, at one workload configuration of a machine."""
    workload: str
    configuration: str     # params and worker setting ("1 worker" / "all cores" / "N workers")
    series: Series
    machine: str
    ratio: float


def _workers_label(workers: int | None, cores) -> str:
    if workers is None:
        return ""
    if workers == 1:
        return "1 worker"
    return "all cores" if isinstance(cores, int) and workers == cores else f"{workers} workers"


def ratios(machines: list[tuple[str, Results]], ratio_to: str) -> list[Ratio]:
    """ratios: for every machine and ok case, its median over the median of runtime `ratio_to` (its first
    stack policy) at the same workload, params and worker count on the same machine."""
    out = []
    for name, results in machines:
        cores = results.env.get("cores") or results.env.get("online_cpus")
        groups: dict[tuple, list] = {}
        for case in results.cases:
            if case.ok:
                groups.setdefault((case.workload, tuple(sorted(case.params.items())), case.workers), []).append(case)
        for (workload, params, workers), cases in groups.items():
            references = sorted((c for c in cases if c.runtime == ratio_to), key=lambda c: c.series.sort_key)
            if not references:
                continue
            configuration = ", ".join([*(f"{k}={v}" for k, v in params), _workers_label(workers, cores)])
            for case in cases:
                out.append(Ratio(workload, configuration.strip(", "), case.series, name,
                                 case.median / references[0].median))
    return out


def ratio_charts(rows: list[Ratio], ratio_to: str, machines: list[str]) -> list[Chart]:
    """ratio_charts: per workload, grouped bars (configuration × series on x, one bar per machine) of the
    ratio to `ratio_to`, on a log axis around 1."""
    charts = []
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
    for workload in dict.fromkeys(r.workload for r in rows):
        mine = [r for r in rows if r.workload == workload]
        groups = list(dict.fromkeys((r.configuration, r.series) for r in mine if r.series.runtime != ratio_to))
        if not groups:
            continue
        figure = Figure(figsize=(min(20.0, 2.5 + 1.2 * len(groups)), 5.0),
                        layout="constrained")
        figure.suptitle(f"{workload}: median over {ratio_to}'s at the same params and workers, per machine",
                        fontsize=11)
        axes = figure.subplots()
        width = 0.8 / max(1, len(machines))
        values = []
        for m, machine in enumerate(machines):
            by_group = {(r.configuration, r.series): r.ratio for r in mine if r.machine == machine}
            xs = [g + (m - (len(machines) - 1) / 2) * width for g in range(len(groups))]
            ys = [by_group.get(group, math.nan) for group in groups]
            values += [y for y in ys if not math.isnan(y)]
            bars = axes.bar(xs, ys, width, label=machine, color=palette[m % len(palette)])
            axes.bar_label(bars, labels=[f"{y:.2g}" if not math.isnan(y) else "" for y in ys], fontsize=7)
        axes.axhline(1.0, color="#424242", linewidth=1)
        axes.set_yscale("log")
        if values:
            axes.set_ylim(min(min(values), 1.0) / 1.6, max(max(values), 1.0) * 1.6)
        axes.set_xticks(range(len(groups)), [s.label + "\n" + c.replace(", ", "\n") for c, s in groups], fontsize=7)
        axes.set_ylabel(f"ratio to {ratio_to} (lower is better)")
        axes.legend(title="machine", fontsize=8)
        charts.append(Chart(f"machines-{workload}", f"{workload} across machines",
                            f"Each bar: a runtime's median main figure over {ratio_to}'s at the same params and "
                            f"worker setting on the same machine (1 = as fast as {ratio_to}); machines side by side.",
                            figure, sorted({s for _, s in groups}, key=lambda s: s.sort_key)))
    return charts


def ratio_markdown(rows: list[Ratio], ratio_to: str, machines: list[str]) -> str:
    """ratio_markdown: one Markdown table per workload: configuration, runtime, then a ratio per machine."""
    lines = [f"# Across machines: ratio to {ratio_to}", "",
             f"Median main figure over {ratio_to}'s at the same params and workers on the same machine "
             f"(lower is better; machines are never pooled).", ""]
    for workload in dict.fromkeys(r.workload for r in rows):
        mine = [r for r in rows if r.workload == workload]
        lines += [f"## {workload}", "", "| configuration | runtime | " + " | ".join(machines) + " |",
                  "|---|---|" + "---:|" * len(machines)]
        for configuration, series in dict.fromkeys((r.configuration, r.series) for r in mine):
            cells = {r.machine: f"{r.ratio:.3g}" for r in mine if (r.configuration, r.series) == (configuration, series)}
            lines.append(f"| {configuration} | {series.label} | " + " | ".join(cells.get(m, "") for m in machines) + " |")
        lines.append("")
    return "\n".join(lines)


def default_reference(machines: list[tuple[str, Results]]) -> str | None:
    """default_reference: a runtime with ok cases on every machine: go, else fiber, else the first such."""
    ok_sets = [{c.runtime for c in results.cases if c.ok} for _, results in machines]
    common = set.intersection(*ok_sets) if ok_sets else set()
    for preferred in ("go", "fiber"):
        if preferred in common:
            return preferred
    ordered = [s.runtime for _, results in machines for s in results.series if s.runtime in common]
    return ordered[0] if ordered else None
