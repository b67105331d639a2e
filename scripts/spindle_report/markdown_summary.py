# Writes summary.md: GitHub-flavoured Markdown for a CI step summary or a PR comment — the headline figure
# per runtime × workload, the status matrix and the cases that did not run ok. Text only, no images.
from __future__ import annotations

from .results import Results
from .tables import (NOISE_ADVICE, Table, figure_legend, headline_configurations, headline_table, noise_rule,
                     noise_table, problem_table, status_table)

MAX_PROBLEM_ROWS = 40


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: Table, numeric: bool = False) -> list[str]:
    """_table renders a Markdown table; numeric right-aligns every column after the first."""
    lines = ["| " + " | ".join(_cell(h) for h in table.header) + " |",
             "|" + "|".join(["---"] + ["---:" if numeric else "---"] * (len(table.header) - 1)) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return lines


def render(results: Results) -> str:
    """render returns the whole summary as Markdown text."""
    lines = [f"## Spindle results: `{results.path.name}`", "",
             f"{results.machine_label} · {results.date_label} · {len(results.cases)} cases", "",
             "### Median main figure", "",
             f"{figure_legend(results)}; *status* where the case did not run ok. {noise_rule()}.", ""]
    lines += _table(headline_table(results), numeric=True)
    lines += ["", "Configurations: " + "; ".join(headline_configurations(results)) + "."]
    noisy = noise_table(results)
    if noisy.rows:
        shown = Table(noisy.header, noisy.rows[:MAX_PROBLEM_ROWS])
        lines += ["", f"### Medians not to trust ({len(noisy.rows)})", "",
                  NOISE_ADVICE, ""]
        lines += _table(shown)
        if len(noisy.rows) > MAX_PROBLEM_ROWS:
            lines += ["", f"…and {len(noisy.rows) - MAX_PROBLEM_ROWS} more; see report.html."]
    lines += ["", "### Status matrix", ""]
    lines += _table(status_table(results))
    problems = problem_table(results)
    if problems.rows:
        shown = Table(problems.header, problems.rows[:MAX_PROBLEM_ROWS])
        lines += ["", f"### Cases not ok ({len(problems.rows)})", ""] + _table(shown)
        if len(problems.rows) > MAX_PROBLEM_ROWS:
            lines += ["", f"…and {len(problems.rows) - MAX_PROBLEM_ROWS} more; see report.html."]
    lines += ["", "Charts and the full case list: `report.html` next to this file.", ""]
    return "\n".join(lines)
