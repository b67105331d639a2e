# Writes report.html: one self-contained page (charts inline as data: URIs, CSS inline, no script, no
# external src/href) with the headline figures, environment table, status matrix, every chart with its
# caption, and the list of cases. Opens from a file with no network.
from __future__ import annotations

import base64
import html
from dataclasses import dataclass

from .results import Results
from .tables import (FLAG_MARK, NOISE_ADVICE, Table, cases_table, environment_table, figure_legend,
                     headline_configurations, headline_table, noise_rule, noise_table, problem_table, status_table,
                     worst_status)
from .charts import STATUS_COLORS

_MIME = {"png": "image/png", "svg": "image/svg+xml"}

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #212121; }
h1 { margin-bottom: 0.2em; } .subtitle { color: #616161; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #e0e0e0; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eeeeee; }
figcaption { color: #424242; font-size: 0.9em; max-width: 60em; }
code { font-size: 0.9em; }
td.flag { background: #fff3cd; color: #8a4b00; font-weight: 600; }
"""


@dataclass
class EmbeddedChart:
    """EmbeddedChart is one chart as the page shows it: its image bytes in `fmt`, title and caption."""

    name: str
    title: str
    caption: str
    fmt: str
    data: bytes


def _table(table: Table, cell_style=None, numeric_columns: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
    body = []
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            style = cell_style(row, i) if cell_style else ""
            classes = (["num"] if i in numeric_columns else []) + (["flag"] if FLAG_MARK in cell else [])
            css = f' class="{" ".join(classes)}"' if classes else ""
            text = html.escape(cell)
            if text.startswith("*") and text.endswith("*") and len(text) > 2:
                text = f"<em>{text[1:-1]}</em>"
            cells.append(f"<td{css}{style}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _image(chart: EmbeddedChart) -> str:
    uri = f"data:{_MIME[chart.fmt]};base64,{base64.b64encode(chart.data).decode('ascii')}"
    return (f'<figure id="{html.escape(chart.name)}"><img src="{uri}" alt="{html.escape(chart.title)}" '
            f'data-chart="{html.escape(chart.name)}"><figcaption><strong>{html.escape(chart.title)}.</strong> '
            f"{html.escape(chart.caption)} <code>{html.escape(chart.name)}</code></figcaption></figure>")


def render(results: Results, charts: list[EmbeddedChart]) -> str:
    """render returns the whole page as text."""
    counts = results.status_counts()
    series, workloads = results.series, results.workloads

    def status_style(row: list[str], column: int) -> str:
        if column == 0:
            return ""
        worst = worst_status(counts.get((series[[s.label for s in series].index(row[0])], workloads[column - 1])))
        return f' style="background:{STATUS_COLORS.get(worst, "#ffffff")}"' if worst else ""

    headline = headline_table(results)
    problems = problem_table(results)
    title = f"Spindle results: {results.path.name}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="subtitle">{html.escape(results.machine_label)} · {html.escape(results.date_label)} · '
        f"{len(results.cases)} cases, {len(series)} runtimes, {len(workloads)} workloads</p>",
        "<h2>Headline figures</h2>",
        "<p>Median main figure (" + html.escape(figure_legend(results)) + ") at each workload's "
        "most widely run configuration: " + html.escape("; ".join(headline_configurations(results))) + ". "
        + html.escape(noise_rule()) + ".</p>",
        _table(headline, numeric_columns=set(range(1, len(headline.header)))),
        "<h2>Status matrix</h2>", _table(status_table(results), status_style),
        "<h2>Charts</h2>", *[_image(chart) for chart in charts],
    ]
    noisy = noise_table(results)
    if noisy.rows:
        parts[parts.index("<h2>Status matrix</h2>"):parts.index("<h2>Status matrix</h2>")] = [
            f'<h2 id="noise">Medians not to trust ({len(noisy.rows)})</h2>',
            f"<p>{html.escape(NOISE_ADVICE)}</p>",
            _table(noisy, numeric_columns={1, 2, 3})]
    if problems.rows:
        parts += ["<h2>Cases not ok</h2>", _table(problems)]
    parts += ["<h2>Environment</h2>", _table(environment_table(results)),
              "<h2>All cases</h2>", _table(cases_table(results), numeric_columns={2, 3, 4, 5, 6}),
              "</body></html>"]
    return "\n".join(parts) + "\n"
