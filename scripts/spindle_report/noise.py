# When a case's median should not be trusted: the one Python definition of "noisy" and "bimodal" over the
# repetitions of a case's main figure, the same rule as harness/noise.h (both are tested on
# tests/fixtures/noise_samples.json).
#
#   noisy:   cv = sample stddev / mean (as Google Benchmark computes it) above 10 %.
#   bimodal: a gap test. Sort the samples and take the largest gap between neighbours. Bimodal when there
#            are at least 5 samples, at least 2 on each side of that gap, the gap is at least 10 % of the
#            median, and it is wider than 1.5 × the wider side's range (max − min): two clusters farther
#            apart than either is wide.
from __future__ import annotations

import statistics
from dataclasses import dataclass

NOISY_CV = 0.10
BIMODAL_MIN_SAMPLES = 5
BIMODAL_MIN_SIDE = 2
BIMODAL_MIN_GAP_OF_MEDIAN = 0.10
BIMODAL_GAP_OVER_RANGE = 1.5


@dataclass(frozen=True)
class Noise:
    """Noise is what the repetitions of one figure say about its median."""

    samples: int
    median: float | None
    cv: float | None  # None with fewer than 2 samples
    noisy: bool
    bimodal: bool
    gap: tuple[float, float] | None = None  # bimodal: the samples either side of the gap

    @property
    def flagged(self) -> bool:
        return self.noisy or self.bimodal

    @property
    def flag(self) -> str:
        """flag: '', 'NOISY (cv 23%)', 'BIMODAL' or both, as the harness prints it."""
        parts = [f"NOISY (cv {self.cv * 100:.0f}%)"] if self.noisy else []
        return " ".join(parts + (["BIMODAL"] if self.bimodal else []))


def noise_of(values) -> Noise:
    """noise_of applies the rule above to one case's samples (any order)."""
    v = sorted(float(x) for x in values)
    n = len(v)
    if n == 0:
        return Noise(0, None, None, False, False)
    median = statistics.median(v)
    mean = statistics.fmean(v)
    cv = statistics.stdev(v) / mean if n >= 2 and mean > 0 else (0.0 if n >= 2 else None)
    noisy = cv is not None and cv > NOISY_CV
    if n < BIMODAL_MIN_SAMPLES:
        return Noise(n, median, cv, noisy, False)
    cut = max(range(1, n), key=lambda i: (v[i] - v[i - 1], -i))  # the first largest gap: v[cut-1] .. v[cut]
    gap = v[cut] - v[cut - 1]
    if cut < BIMODAL_MIN_SIDE or n - cut < BIMODAL_MIN_SIDE:
        return Noise(n, median, cv, noisy, False)
    wider = max(v[cut - 1] - v[0], v[-1] - v[cut])
    bimodal = gap >= BIMODAL_MIN_GAP_OF_MEDIAN * abs(median) and gap > BIMODAL_GAP_OVER_RANGE * wider
    return Noise(n, median, cv, noisy, bimodal, (v[cut - 1], v[cut]) if bimodal else None)
