# Change points in one series (a machine × a case × a figure, one value per run): where the level shifts.
# The detection is Apache Otava's (PyPI apache-otava; ex-Hunter, DataStax): E-Divisive over sliding windows
# with a t-test, then the merge step that drops points whose p-value or relative shift is too small
# (Fleming et al., ICPE 2023). This module only adapts its input and output; changepoint_eval.py measures
# it against the hand-written CUSUM it replaced (figures in the README).
from dataclasses import dataclass
from typing import Sequence

import numpy as np

DEFAULT_MIN_SHIFT = 0.05   # a relative change of the level smaller than this is never a change point
DEFAULT_ALPHA = 1e-4       # per series: Otava's max p-value is alpha * window / runs (see below)
DEFAULT_WINDOW = 200       # Otava's sliding window (its default is 50), in runs; chosen by changepoint_eval.py
MIN_LENGTH = 6             # shorter series are not searched


@dataclass(frozen=True)
class ChangePoint:
    """ChangePoint: the level changes between run index-1 and run index (index is the first run after)."""
    index: int
    before: float        # median of the segment before
    after: float         # median of the segment after
    p_value: float

    @property
    def relative_shift(self) -> float:
        return self.after / self.before - 1.0


def detect_change_points(series: Sequence[float], *, min_shift: float = DEFAULT_MIN_SHIFT,
                         alpha: float = DEFAULT_ALPHA, window: int = DEFAULT_WINDOW) -> list[ChangePoint]:
    """detect_change_points: change points of a series of positive values in time order, sorted by index;
    each level is reported as the median between neighbouring change points."""
    from otava.analysis import compute_change_points  # imported on first use: it loads scipy.stats

    values = np.asarray(series, dtype=float)
    if values.size < MIN_LENGTH or np.any(values <= 0):
        return []
    # Otava's t-test is run on log values: run-to-run noise is multiplicative and skewed, and logs make it
    # closer to the normal noise the test assumes. Its own relative-change filter would then read log means,
    # so the shift filter is ours, on segment medians.
    # A long series is searched window by window, so its false alarms add up: Otava's p-value limit is
    # alpha shared by the windows (alpha * window / runs, Bonferroni), keeping ~alpha per series at any length.
    max_pvalue = alpha * min(1.0, window / values.size)
    points, _weak = compute_change_points(np.log(values).tolist(), window_len=window, max_pvalue=max_pvalue,
                                          min_magnitude=0.0)
    p_values = {int(point.index): float(point.stats.pvalue) for point in points}
    while True:   # drop the weakest point below min_shift, then look again at its neighbours' new segments
        edges = [0, *sorted(p_values), values.size]
        shifts = {edges[i]: abs(np.median(values[edges[i]:edges[i + 1]]) / np.median(values[edges[i - 1]:edges[i]]) - 1)
                  for i in range(1, len(edges) - 1)}
        weakest = min(shifts, key=shifts.get, default=None)
        if weakest is None or shifts[weakest] >= min_shift:
            break
        del p_values[weakest]
    return [ChangePoint(edges[i], float(np.median(values[edges[i - 1]:edges[i]])),
                        float(np.median(values[edges[i]:edges[i + 1]])), p_values[edges[i]])
            for i in range(1, len(edges) - 1)]
