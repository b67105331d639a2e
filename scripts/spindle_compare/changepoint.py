# Change points in one case's history: where the series of per-run medians shifts to a new level.
# Binary segmentation with a CUSUM test on log values: a split is kept when the CUSUM statistic is
# significant (Kolmogorov limit of the Brownian bridge) AND the segment medians differ by >= min_shift.
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as scipy_stats

DEFAULT_MIN_SHIFT = 0.05   # a relative change of the level smaller than this is never a change point
DEFAULT_ALPHA = 0.01
DEFAULT_MIN_SEGMENT = 3    # runs on each side of a change point
NOISE_FLOOR = 1e-3         # smallest noise assumed (log ratio): a flat series is not "infinitely sure"


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


def _noise_sigma(logs: np.ndarray) -> float:
    """Robust run-to-run noise of log values: MAD of first differences / (0.6745 * sqrt 2). A level shift
    changes only one difference, so it barely moves this estimate."""
    if logs.size < 3:
        return NOISE_FLOOR
    differences = np.diff(logs)
    mad = np.median(np.abs(differences - np.median(differences)))
    return max(float(mad / 0.6745 / math.sqrt(2.0)), NOISE_FLOOR)


def _best_split(logs: np.ndarray, sigma: float, min_segment: int) -> tuple[int, float] | None:
    """The CUSUM split of one segment and its p-value, or None when the segment is too short."""
    n = logs.size
    if n < 2 * min_segment:
        return None
    cusum = np.cumsum(logs - logs.mean())[:-1]        # S_k for k = 1..n-1 (split after k values)
    candidates = np.arange(1, n)
    allowed = (candidates >= min_segment) & (candidates <= n - min_segment)
    k = int(candidates[allowed][np.argmax(np.abs(cusum[allowed]))])
    statistic = abs(cusum[k - 1]) / (sigma * math.sqrt(n))
    return k, float(scipy_stats.kstwobign.sf(statistic))


def detect_change_points(series: Sequence[float], *, min_shift: float = DEFAULT_MIN_SHIFT,
                         alpha: float = DEFAULT_ALPHA, min_segment: int = DEFAULT_MIN_SEGMENT,
                         ) -> list[ChangePoint]:
    """detect_change_points: change points of a series of positive values in time order, sorted by index.
    The noise is estimated once, from the whole series; each accepted split is searched again on both
    sides."""
    values = np.asarray(series, dtype=float)
    if values.size == 0 or np.any(values <= 0):
        return []
    logs = np.log(values)
    sigma = _noise_sigma(logs)
    found: list[ChangePoint] = []
    pending = [(0, values.size)]
    while pending:
        start, stop = pending.pop()
        split = _best_split(logs[start:stop], sigma, min_segment)
        if split is None:
            continue
        k, p_value = split
        before, after = float(np.median(values[start:start + k])), float(np.median(values[start + k:stop]))
        if p_value < alpha and abs(after / before - 1.0) >= min_shift:
            found.append(ChangePoint(start + k, before, after, p_value))
            pending += [(start, start + k), (start + k, stop)]
    # Report each level as the median between neighbouring change points, not of the wider segment the
    # split was first found in.
    edges = [0, *sorted(point.index for point in found), values.size]
    by_index = {point.index: point for point in found}
    return [ChangePoint(edges[i], float(np.median(values[edges[i - 1]:edges[i]])),
                        float(np.median(values[edges[i]:edges[i + 1]])), by_index[edges[i]].p_value)
            for i in range(1, len(edges) - 1)]
