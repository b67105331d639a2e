# Chooses which cases each chart shows: the headline case per series of a workload (its most widely run
# configuration), and the scaling lines of a sweep (cases differing in one param or in workers, the rest fixed).
# Pure functions over Case lists; the rules are stated once here so charts and tables agree.
from __future__ import annotations

from dataclasses import dataclass

from .results import Case, Series, status_severity


@dataclass
class Headline:
    """Headline is one workload's comparison point: the shared params and, per series, the case shown."""

    params: dict[str, int]
    cases: dict[Series, Case | None]  # None: this series never ran at these params

    def describe(self) -> str:
        text = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        workers = {c.workers for c in self.cases.values() if c is not None and c.workers is not None}
        if len(workers) == 1:
            text += (", " if text else "") + f"workers={workers.pop()}"
        elif workers:
            text += (", " if text else "") + "workers as labelled"
        return text


def headline(cases: list[Case], series: list[Series]) -> Headline:
    """headline picks the params run ok by the most series (ties: the most series, then the largest values),
    then the worker count run ok by the most series there (ties: the most workers). Per series it shows its
    ok case at that worker count, else its ok case with the most workers, else its worst-status case."""
    by_params: dict[tuple, list[Case]] = {}
    for case in cases:
        by_params.setdefault(tuple(sorted(case.params.items())), []).append(case)

    def rank(item: tuple[tuple, list[Case]]) -> tuple:
        key, group = item
        return (len({c.series for c in group if c.ok}), len({c.series for c in group}), tuple(v for _, v in key))

    key, group = max(by_params.items(), key=rank)
    ok_series_at: dict[int, set[Series]] = {}
    for case in group:
        if case.ok:
            ok_series_at.setdefault(case.workers or 0, set()).add(case.series)
    preferred = max(ok_series_at, key=lambda w: (len(ok_series_at[w]), w)) if ok_series_at else None
    chosen: dict[Series, Case | None] = {}
    for s in series:
        mine = [c for c in group if c.series == s]
        ok = [c for c in mine if c.ok]
        if ok:
            chosen[s] = max(ok, key=lambda c: ((c.workers or 0) == preferred, c.workers or 0))
        elif mine:
            chosen[s] = max(mine, key=lambda c: ((c.workers or 0) == preferred, _severity(c), c.workers or 0))
        else:
            chosen[s] = None
    return Headline(params=dict(key), cases=chosen)


def _severity(case: Case) -> int:
    return status_severity(case.status)


def varying_dimensions(cases: list[Case]) -> list[str]:
    """varying_dimensions lists the params (then 'workers') that take more than one value among cases."""
    names = sorted({n for c in cases for n in c.params}) + ["workers"]
    return [n for n in names if len({c.dimension(n) for c in cases if c.dimension(n) is not None}) > 1]


@dataclass
class ScalingLine:
    """ScalingLine is one series' cases along one dimension, every other dimension held at `fixed`."""

    series: Series
    dimension: str
    fixed: dict[str, int]
    cases: list[Case]  # sorted by the dimension's value

    def describe_fixed(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.fixed.items())


def scaling_lines(cases: list[Case], series: list[Series], dimension: str) -> list[ScalingLine]:
    """scaling_lines gives, per series, the cases along `dimension` for the setting of the other dimensions
    that has the most ok points (ties: the most points, then the largest values)."""
    others = [n for n in sorted({n for c in cases for n in c.params}) + ["workers"] if n != dimension]
    lines = []
    for s in series:
        groups: dict[tuple, list[Case]] = {}
        for case in cases:
            if case.series == s and case.dimension(dimension) is not None:
                groups.setdefault(tuple(case.dimension(n) for n in others), []).append(case)
        if not groups:
            continue

        def rank(item: tuple[tuple, list[Case]]) -> tuple:
            key, group = item
            return (len({c.dimension(dimension) for c in group if c.ok}), len(group),
                    tuple(v if v is not None else -1 for v in key))

        key, group = max(groups.items(), key=rank)
        fixed = {n: v for n, v in zip(others, key) if v is not None}
        lines.append(ScalingLine(s, dimension, fixed, sorted(group, key=lambda c: c.dimension(dimension))))
    return lines
