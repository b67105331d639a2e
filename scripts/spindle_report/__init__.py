# spindle_report: turns one Spindle results JSON (docs/results-format.md) into PNG/SVG charts, a
# self-contained report.html and a summary.md. Entry point: spindle_report.cli.main (scripts/report).
