# The tables a report shows, as plain strings: the environment, the headline figure per runtime × workload,
# the status matrix and the cases that did not run ok. report.html and summary.md both render these, so the
# two always say the same thing.
from __future__ import annotations

from dataclasses import dataclass

from .noise import NOISY_CV, Noise
from .results import Case, Results, main_figure_unit, status_severity
from .selection import Headline, headline
from .units import DEFAULT_FIGURE, figure_of, format_bytes, format_cv, format_figure

FLAG_MARK = "⚠"  # starts every noise flag in a table cell; report.html highlights such cells

_CONTEXT_FIELDS = ("host_name", "date", "executable", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled",
                   "library_build_type", "spindle_schema")
_ENV_FIELDS = ("cpu_model", "cores", "online_cpus", "governor", "virtualization", "kernel", "memory_bytes",
               "compiler", "cxx_flags", "build_type", "boost_version", "benchmark_version", "go_version",
               "git_revision", "git_dirty", "load_avg_start", "load_avg_end", "max_map_count", "threads_max",
               "rlimit_nproc")


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


def _text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def environment_table(results: Results) -> Table:
    """environment_table lists the machine and build: known fields first, then any others the file has."""
    context, env = results.context, results.env
    rows = [[key, _text(context[key])] for key in _CONTEXT_FIELDS if key in context]
    for key in list(_ENV_FIELDS) + sorted(set(env) - set(_ENV_FIELDS)):
        if key in env:
            value = format_bytes(env[key]) if key == "memory_bytes" and isinstance(env[key], (int, float)) \
                else _text(env[key])
            rows.append([key, value])
    sweep = context.get("sweep")
    if isinstance(sweep, dict):
        rows += [[f"sweep.{k}", _text(v)] for k, v in sweep.items()]
    rows.append(["results file", str(results.path)])
    return Table(["field", "value"], rows)


def headlines(results: Results) -> dict[str, Headline]:
    return {w: headline(results.cases_of(w), [s for s in results.series
                                              if any(c.series == s for c in results.cases_of(w))])
            for w in results.workloads}


def noise_cell(noise: Noise) -> str:
    """noise_cell: the cv of a case's repetitions, with '⚠ NOISY' / '⚠ BIMODAL' when its median is not to be
    trusted (noise.py); an em dash with one repetition."""
    text = format_cv(noise.cv)
    if noise.noisy:
        text += f" {FLAG_MARK} NOISY"
    if noise.bimodal:
        text += f" {FLAG_MARK} BIMODAL"
    return text


def headline_table(results: Results) -> Table:
    """headline_table: median main figure per series (rows) × workload (columns) at each workload's
    headline configuration, each followed by a cv column with the noise flags; a case that did not run ok
    shows its status in italics (*limit*)."""
    heads = headlines(results)
    rows = []
    for s in results.series:
        row = [s.label]
        for workload, head in heads.items():
            case = head.cases.get(s)
            if case is None:
                row += ["—", "—"]
            elif case.ok:
                row += [format_figure(main_figure_unit(workload), case.median), noise_cell(case.noise)]
            else:
                row += [f"*{case.status}*", "—"]
        rows.append(row)
    header = ["runtime"]
    for workload in heads:
        header += [workload, "cv"]
    return Table(header, rows)


def figure_legend(results: Results) -> str:
    """figure_legend says what each workload's median is, in its unit, and which way is better."""
    figures = {w: figure_of(w) for w in results.workloads}
    parts = [DEFAULT_FIGURE.label] if DEFAULT_FIGURE in figures.values() else []
    parts += [f"{w}: {f.label}" + ("" if f.lower_is_better else f" ({f.better})")
              for w, f in figures.items() if f != DEFAULT_FIGURE]
    return "; ".join(parts)


NOISE_ADVICE = "Noisy or bimodal repetitions: rerun these before reading much into their medians."


def noise_rule() -> str:
    return (f"cv = stddev ÷ mean of the repetitions; {FLAG_MARK} NOISY above {NOISY_CV:.0%}, {FLAG_MARK} BIMODAL "
            "when the repetitions fall into two clusters farther apart than either is wide (a gap test)")


def headline_configurations(results: Results) -> list[str]:
    return [f"{w}: {h.describe() or 'defaults'}" for w, h in headlines(results).items()]


def status_cell(counter) -> str:
    if not counter:
        return "—"
    ordered = sorted(counter, key=status_severity)
    if len(ordered) == 1:
        return ordered[0] + (f" ×{counter[ordered[0]]}" if counter[ordered[0]] > 1 else "")
    return ", ".join(f"{counter[st]} {st}" for st in ordered)


def worst_status(counter) -> str | None:
    return max(counter, key=status_severity) if counter else None


def status_table(results: Results) -> Table:
    """status_table: per series × workload, how many cases ended in each status."""
    counts = results.status_counts()
    rows = [[s.label] + [status_cell(counts.get((s, w))) for w in results.workloads] for s in results.series]
    return Table(["runtime"] + results.workloads, rows)


def problem_table(results: Results) -> Table:
    """problem_table: every case that did not run ok, with its reason."""
    rows = [[c.case_id, c.status, c.reason or ("ok but no main figure in its records" if c.status == "ok"
                                              else "(no reason given)")] for c in results.cases if not c.ok]
    return Table(["case", "status", "reason"], rows)


def cases_table(results: Results) -> Table:
    """cases_table: every case with its repetitions and main figure (median, cv with noise flags, min, max)."""
    rows = []
    for c in results.cases:
        unit = main_figure_unit(c.workload)
        rows.append([c.case_id, c.status, str(len(c.values)), format_figure(unit, c.median if c.ok else None),
                     noise_cell(c.noise) if c.ok else "—", format_figure(unit, c.minimum if c.ok else None),
                     format_figure(unit, c.maximum if c.ok else None)])
    return Table(["case", "status", "ok repetitions", "median", "cv", "min", "max"], rows)


def _repetitions_text(case: Case) -> str:
    unit = main_figure_unit(case.workload)
    values = sorted(case.values)
    if case.noise.gap:
        low, high = case.noise.gap
        lower = [v for v in values if v <= low]
        upper = [v for v in values if v >= high]
        return (f"{format_figure(unit, lower[0])}–{format_figure(unit, low)} and "
                f"{format_figure(unit, high)}–{format_figure(unit, upper[-1])}")
    return f"{format_figure(unit, values[0])}–{format_figure(unit, values[-1])}"


def noise_table(results: Results) -> Table:
    """noise_table: the ok cases whose median is not to be trusted (noisy or bimodal), with the spread of
    their repetitions (both clusters when bimodal)."""
    rows = [[c.case_id, format_figure(main_figure_unit(c.workload), c.median), noise_cell(c.noise),
             str(len(c.values)), _repetitions_text(c)] for c in results.cases if c.ok and c.noise.flagged]
    return Table(["case", "median", "cv", "ok repetitions", "repetitions range"], rows)
