# The regression verdict of NEW against BASE, case by case, and the exit code it implies.
# A case regresses when its median grew beyond the threshold, the growth is significant after Holm's
# correction over all tested cases (one-sided Mann-Whitney, NEW slower), and the bootstrap 95% interval
# of the ratio lies above 1. Improvements mirror this. Exit code: 0 none, 1 a regression or a broken case.
from dataclasses import asdict, dataclass, field

import numpy as np
from spindle_report.noise import Noise, noise_of

from . import stats
from .matching import Results, ResultsError, environment_differences

MIN_REPETITIONS = 2   # fewer ok repetitions than this on a side: the case is reported, not tested

# Verdicts, in the order the table shows them.
REGRESSION = "regression"      # slower beyond threshold, significant, interval above 1   -> exit 1
BROKEN = "broken"              # ok in BASE, no ok repetition in NEW (failed/crashed/...)  -> exit 1
IMPROVEMENT = "improvement"    # faster beyond threshold, significant, interval below 1
UNCERTAIN = "uncertain"        # beyond threshold by the medians, but not significant: more repetitions
UNCHANGED = "unchanged"        # within the threshold
FIXED = "fixed"                # no ok repetition in BASE, ok in NEW
NOT_OK = "not-ok"              # no ok repetition on either side (e.g. unsupported, limit)
TOO_FEW = "too-few-reps"       # fewer than MIN_REPETITIONS ok repetitions on a side
VERDICT_ORDER = (REGRESSION, BROKEN, IMPROVEMENT, UNCERTAIN, UNCHANGED, FIXED, NOT_OK, TOO_FEW)
FAILING_VERDICTS = (REGRESSION, BROKEN)


@dataclass
class CaseVerdict:
    """CaseVerdict: one case present in both files. Statistics are None when the case was not tested."""
    case_id: str
    metric: str
    unit: str
    verdict: str
    n_base: int
    n_new: int
    base_median: float | None = None
    new_median: float | None = None
    ratio: float | None = None            # median(NEW) / median(BASE)
    ci_low: float | None = None           # bootstrap 95% interval of the ratio
    ci_high: float | None = None
    p_slower: float | None = None         # one-sided MWU p, NEW slower; then Holm-adjusted
    p_slower_holm: float | None = None
    p_faster: float | None = None         # one-sided MWU p, NEW faster; then Holm-adjusted
    p_faster_holm: float | None = None
    note: str = ""
    base_noise: Noise | None = None       # cv and noisy/bimodal flags of each side (spindle_report/noise.py);
    new_noise: Noise | None = None        # shown beside the medians, no part of the verdict


@dataclass
class Comparison:
    """Comparison: the whole verdict; `exit_code` is what scripts/compare exits with."""
    base_path: str
    new_path: str
    base_revision: str
    new_revision: str
    threshold: float
    alpha: float
    unit: str                                               # what one observation is: matching.UNITS
    cases: list[CaseVerdict]
    new_cases: list[str] = field(default_factory=list)       # only in NEW
    missing_cases: list[str] = field(default_factory=list)   # only in BASE
    warnings: list[str] = field(default_factory=list)

    def with_verdict(self, *verdicts: str) -> list[CaseVerdict]:
        return [case for case in self.cases if case.verdict in verdicts]

    @property
    def exit_code(self) -> int:
        return 1 if self.with_verdict(*FAILING_VERDICTS) else 0

    def to_dict(self) -> dict:
        document = asdict(self)
        document["exit_code"] = self.exit_code
        document["counts"] = {verdict: len(self.with_verdict(verdict)) for verdict in VERDICT_ORDER}
        return document


def repetitions_needed(cases_tested: int, alpha: float) -> int:
    """repetitions_needed: the smallest equal number of repetitions per side for which complete separation
    of one case survives Holm over `cases_tested` cases at `alpha` (one-sided exact MWU)."""
    n = 2
    while cases_tested * stats.smallest_one_sided_p(n, n) >= alpha:
        n += 1
    return n


def _untested_verdict(n_base: int, n_new: int) -> str:
    if n_base == 0 and n_new == 0:
        return NOT_OK
    if n_new == 0:
        return BROKEN
    if n_base == 0:
        return FIXED
    return TOO_FEW


def compare(base: Results, new: Results, *, threshold: float = 0.05, alpha: float = 0.01,
            resamples: int = stats.DEFAULT_RESAMPLES, seed: int = stats.DEFAULT_SEED,
            unit: str = "repetition") -> Comparison:
    """compare: the verdict of NEW against BASE. Raises ResultsError when the files share no case."""
    common = [case_id for case_id in base.cases if case_id in new.cases]
    if not common:
        raise ResultsError(f"no common cases between {base.path} ({len(base.cases)} cases) and "
                           f"{new.path} ({len(new.cases)} cases): compare results of the same sweep")
    comparison = Comparison(base.path, new.path, base.git_revision, new.git_revision, threshold, alpha,
                            unit, cases=[],
                            new_cases=sorted(set(new.cases) - set(base.cases)),
                            missing_cases=sorted(set(base.cases) - set(new.cases)),
                            warnings=[f"environments differ: {line}"
                                      for line in environment_differences(base, new)])
    tested: list[CaseVerdict] = []
    for case_id in sorted(common):
        base_case, new_case = base.cases[case_id], new.cases[case_id]
        case = CaseVerdict(case_id, base_case.metric, base_case.unit, verdict="",
                           n_base=len(base_case.values), n_new=len(new_case.values))
        case.base_noise, case.new_noise = noise_of(base_case.values), noise_of(new_case.values)
        if case.n_base:
            case.base_median = float(np.median(base_case.values))
        if case.n_new:
            case.new_median = float(np.median(new_case.values))
        if case.n_base >= MIN_REPETITIONS and case.n_new >= MIN_REPETITIONS:
            case.ratio = stats.median_ratio(base_case.values, new_case.values)
            case.ci_low, case.ci_high = stats.bootstrap_ratio_ci(
                base_case.values, new_case.values, resamples=resamples, seed=seed, stream=case_id)
            case.p_slower = stats.mann_whitney_p(base_case.values, new_case.values, "greater")
            case.p_faster = stats.mann_whitney_p(base_case.values, new_case.values, "less")
            tested.append(case)
        else:
            case.verdict = _untested_verdict(case.n_base, case.n_new)
            if case.verdict in (BROKEN, NOT_OK):
                case.note = f"NEW: {new_case.status_summary()}"
            elif case.verdict == FIXED:
                case.note = f"BASE: {base_case.status_summary()}"
            else:
                case.note = f"needs >= {MIN_REPETITIONS} observations ({unit}s) per side"
        comparison.cases.append(case)

    # Two families, each Holm-corrected over the tested cases: "which cases got slower" (this one decides
    # the exit code) and "which got faster". Testing each direction one-sided within its own family keeps
    # the family-wise false-alarm rate of the gate at alpha.
    for case, p_holm in zip(tested, stats.holm_adjust([case.p_slower for case in tested])):
        case.p_slower_holm = p_holm
    for case, p_holm in zip(tested, stats.holm_adjust([case.p_faster for case in tested])):
        case.p_faster_holm = p_holm
    slower_limit, faster_limit = 1.0 + threshold, 1.0 / (1.0 + threshold)
    for case in tested:
        if case.ratio > slower_limit:
            significant = case.p_slower_holm < alpha and case.ci_low > 1.0
            case.verdict = REGRESSION if significant else UNCERTAIN
        elif case.ratio < faster_limit:
            significant = case.p_faster_holm < alpha and case.ci_high < 1.0
            case.verdict = IMPROVEMENT if significant else UNCERTAIN
        else:
            case.verdict = UNCHANGED

    blind = [case for case in tested
             if len(tested) * stats.smallest_one_sided_p(case.n_base, case.n_new) >= alpha]
    if blind:
        smallest = min(case.n_base for case in blind), min(case.n_new for case in blind)
        comparison.warnings.append(
            f"{len(blind)} of {len(tested)} tested cases cannot be significant at alpha {alpha:g}: "
            f"with {smallest[0]} vs {smallest[1]} {unit}s the smallest Holm-adjusted p over "
            f"{len(tested)} cases is {len(tested) * stats.smallest_one_sided_p(*smallest):.3g}; "
            f"use >= {repetitions_needed(len(tested), alpha)} {unit}s per side or a larger --alpha")
    return comparison
