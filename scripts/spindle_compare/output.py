# Presenting a Comparison: the terminal table (ANSI colours only when asked, i.e. on a terminal), the
# Markdown summary (summary.md for CI step summaries) and the JSON document. Formatting only; every
# figure comes from verdict.Comparison.
import json
from pathlib import Path

from .verdict import (BROKEN, FAILING_VERDICTS, IMPROVEMENT, REGRESSION, UNCERTAIN, VERDICT_ORDER,
                      CaseVerdict, Comparison)

ANSI_BY_VERDICT = {REGRESSION: "\033[1;31m", BROKEN: "\033[1;31m", IMPROVEMENT: "\033[32m",
                   UNCERTAIN: "\033[33m"}
ANSI_RESET = "\033[0m"
COLUMNS = ("verdict", "case", "BASE", "cv", "NEW", "cv", "ratio", "95% CI", "p (Holm)", "n")


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if value >= 1e5:
        return f"{value:.3e} {unit}"
    return f"{value:.4g} {unit}"


def _noise(noise) -> str:
    """_noise: the cv of one side's repetitions, with NOISY / BIMODAL when its median is not to be trusted
    (spindle_report/noise.py); '-' with fewer than two repetitions."""
    if noise is None or noise.cv is None:
        return "-"
    return f"{noise.cv:.1%}" + (" NOISY" if noise.noisy else "") + (" BIMODAL" if noise.bimodal else "")


def _p_in_direction(case: CaseVerdict) -> float | None:
    if case.ratio is None:
        return None
    return case.p_slower_holm if case.ratio >= 1.0 else case.p_faster_holm


def _row(case: CaseVerdict) -> list[str]:
    p_holm = _p_in_direction(case)
    return [
        case.verdict,
        case.case_id,
        _figure(case.base_median, case.unit),
        _noise(case.base_noise),
        _figure(case.new_median, case.unit),
        _noise(case.new_noise),
        f"{case.ratio:.3f}" if case.ratio is not None else "-",
        f"[{case.ci_low:.3f}, {case.ci_high:.3f}]" if case.ci_low is not None else "-",
        f"{p_holm:.2g}" if p_holm is not None else "-",
        f"{case.n_base}/{case.n_new}",
    ]


def sorted_cases(comparison: Comparison) -> list[CaseVerdict]:
    """sorted_cases: failing verdicts first, then the rest in VERDICT_ORDER, by case_id within a verdict."""
    return sorted(comparison.cases, key=lambda case: (VERDICT_ORDER.index(case.verdict), case.case_id))


def result_line(comparison: Comparison) -> str:
    """result_line: the one-line verdict, naming the failing cases."""
    failing = [case for case in sorted_cases(comparison) if case.verdict in FAILING_VERDICTS]
    improved = comparison.with_verdict(IMPROVEMENT)
    tail = f"; {len(improved)} improvement(s)" if improved else ""
    if not failing:
        return f"RESULT: no regression in {len(comparison.cases)} common cases{tail}"
    names = ", ".join(f"{case.case_id} ({case.verdict}"
                      + (f" x{case.ratio:.3f})" if case.ratio is not None else ")") for case in failing)
    return f"RESULT: {len(failing)} regression(s): {names}{tail}"


def _method_line(comparison: Comparison) -> str:
    tested = sum(case.ratio is not None for case in comparison.cases)
    unit = "one observation per repetition" if comparison.unit == "repetition" else \
        "one observation per round (its median)"
    return (f"threshold {comparison.threshold:.1%}, alpha {comparison.alpha:g}: one-sided Mann-Whitney U "
            f"per direction, Holm over {tested} tested cases, bootstrap 95% CI of median(NEW)/median(BASE); "
            f"{unit}")


def format_table(comparison: Comparison, colour: bool) -> str:
    """format_table: the terminal report: header, aligned table, new/missing cases, warnings, result."""
    rows = [_row(case) for case in sorted_cases(comparison)]
    widths = [max(len(COLUMNS[i]), *(len(row[i]) for row in rows)) for i in range(len(COLUMNS))]
    lines = [f"BASE {comparison.base_path} (revision {comparison.base_revision})",
             f"NEW  {comparison.new_path} (revision {comparison.new_revision})",
             _method_line(comparison), "",
             "  ".join(title.ljust(width) for title, width in zip(COLUMNS, widths))]
    for case, row in zip(sorted_cases(comparison), rows):
        text = "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
        if case.note:
            text += f"  {case.note}"
        if colour and case.verdict in ANSI_BY_VERDICT:
            text = f"{ANSI_BY_VERDICT[case.verdict]}{text}{ANSI_RESET}"
        lines.append(text)
    lines.append("")
    for title, case_ids in (("new cases (only in NEW)", comparison.new_cases),
                            ("missing cases (only in BASE)", comparison.missing_cases)):
        if case_ids:
            lines.append(f"{title}: {len(case_ids)}")
            lines += [f"  {case_id}" for case_id in case_ids]
    lines += [f"warning: {warning}" for warning in comparison.warnings]
    result = result_line(comparison)
    if colour and comparison.exit_code:
        result = f"{ANSI_BY_VERDICT[REGRESSION]}{result}{ANSI_RESET}"
    lines.append(result)
    return "\n".join(lines) + "\n"


def format_markdown(comparison: Comparison) -> str:
    """format_markdown: summary.md: verdict first, then the table and the lists."""
    lines = ["## Spindle performance comparison", "",
             f"**{result_line(comparison)}**", "",
             f"BASE `{comparison.base_path}` (revision `{comparison.base_revision}`), "
             f"NEW `{comparison.new_path}` (revision `{comparison.new_revision}`).  ",
             _method_line(comparison) + ".", ""]
    for warning in comparison.warnings:
        lines.append(f"> **Warning:** {warning}")
    if comparison.warnings:
        lines.append("")
    lines += ["| " + " | ".join(COLUMNS) + " | note |", "|" + "---|" * (len(COLUMNS) + 1)]
    for case in sorted_cases(comparison):
        cells = _row(case)
        cells[0] = f"**{cells[0]}**" if case.verdict in FAILING_VERDICTS else cells[0]
        cells[1] = f"`{cells[1]}`"
        lines.append("| " + " | ".join(cells + [case.note.replace("|", "\\|")]) + " |")
    for title, case_ids in (("New cases (only in NEW)", comparison.new_cases),
                            ("Missing cases (only in BASE)", comparison.missing_cases)):
        if case_ids:
            lines += ["", f"{title}:", ""] + [f"- `{case_id}`" for case_id in case_ids]
    return "\n".join(lines) + "\n"


def write_markdown(comparison: Comparison, path: Path) -> None:
    Path(path).write_text(format_markdown(comparison))


def write_json(comparison: Comparison, path: Path) -> None:
    Path(path).write_text(json.dumps(comparison.to_dict(), indent=2) + "\n")
