# The statistics of a two-sample comparison of benchmark repetitions: ratio of medians, its bootstrap
# confidence interval, one-sided Mann-Whitney U p-values, Holm's step-down correction, and the smallest
# p-value a sample size can reach. Pure functions of numbers; no knowledge of Spindle's JSON.
import math
import zlib
from typing import Sequence

import numpy as np
from scipy import stats as scipy_stats

DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 20261201


def median_ratio(base: Sequence[float], new: Sequence[float]) -> float:
    """median_ratio: median(new) / median(base); > 1 means NEW is larger (slower, for a time)."""
    return float(np.median(new) / np.median(base))


def bootstrap_ratio_ci(base: Sequence[float], new: Sequence[float], *, confidence: float = 0.95,
                       resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                       stream: str = "") -> tuple[float, float]:
    """bootstrap_ratio_ci: percentile bootstrap interval of median(new)/median(base). Each side is resampled
    with replacement independently (the repetitions of one side are exchangeable, the sides are not).
    Deterministic: the generator is seeded from `seed` and the name `stream` (e.g. the case_id), so a
    case's interval does not depend on which other cases are in the file."""
    base_values = np.asarray(base, dtype=float)
    new_values = np.asarray(new, dtype=float)
    rng = np.random.default_rng([seed, zlib.crc32(stream.encode())])
    base_medians = np.median(base_values[rng.integers(0, base_values.size, (resamples, base_values.size))],
                             axis=1)
    new_medians = np.median(new_values[rng.integers(0, new_values.size, (resamples, new_values.size))],
                            axis=1)
    ratios = new_medians / base_medians
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(ratios, [tail, 1.0 - tail])
    return float(low), float(high)


def mann_whitney_p(base: Sequence[float], new: Sequence[float], alternative: str) -> float:
    """mann_whitney_p: Mann-Whitney U p-value of NEW against BASE. alternative: 'greater' (NEW tends to be
    larger), 'less', or 'two-sided'. Exact distribution when there are no ties and the samples are small
    enough for it to be cheap, the normal approximation with tie correction otherwise."""
    pooled = np.concatenate([np.asarray(base, float), np.asarray(new, float)])
    has_ties = np.unique(pooled).size < pooled.size
    method = "exact" if not has_ties and len(base) <= 60 and len(new) <= 60 else "asymptotic"
    return float(scipy_stats.mannwhitneyu(new, base, alternative=alternative, method=method).pvalue)


def smallest_one_sided_p(n_base: int, n_new: int) -> float:
    """smallest_one_sided_p: the smallest one-sided exact Mann-Whitney p-value two samples of these sizes
    can produce (complete separation): 1 / C(n_base + n_new, n_base). 5 vs 5 gives 1/252 = 0.0040."""
    return 1.0 / math.comb(n_base + n_new, n_base)


def holm_adjust(pvalues: Sequence[float]) -> list[float]:
    """holm_adjust: Holm's step-down adjusted p-values, in the input order. Rejecting every hypothesis whose
    adjusted p is < alpha controls the family-wise error rate at alpha, with no assumption about how the
    tests depend on each other."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    adjusted = np.empty(m)
    running_max = 0.0
    for rank, index in enumerate(np.argsort(p, kind="stable")):
        running_max = max(running_max, (m - rank) * p[index])
        adjusted[index] = min(1.0, running_max)
    return adjusted.tolist()
