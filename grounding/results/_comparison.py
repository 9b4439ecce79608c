"""A run against its baseline: paired on (case, seed, judge, metric), per case, per concept and per modality.

Per case: the fall of the pass rate over seeds (exact one-sided McNemar on the seeds that changed) and of the
mean CLIPScore. Per slice (every output of the modality, each concept or category word of the cases, each
judge's metric): the mean paired delta with a case-resampling bootstrap interval, a one-sided sign-flip test
over cases, Holm's correction across the modality's slices and a minimum detectable effect. A regression gates
only when it is both significant and larger than its tolerance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from statistics import fmean, pvariance
from typing import Iterable, Mapping, Sequence

import numpy as np

from grounding.results._statistics import (Interval, MMDTest, cmmd, holm, mcnemar_exact, paired_bootstrap,
                                           precision_recall, sign_flip_test, spread)
from grounding.results._thresholds import Thresholds
from grounding.results.store import artifact_sha
from grounding.types import Case, Record

EARLY_WARNINGS = {"clip/margin": "margin", "oracle/agreement": "agreement"}  # paired continuous readings
KNN = 3  # neighbours that define a sample's manifold ball for precision and recall


@dataclass(frozen=True)
class CaseChange:
    case_id: str
    seeds: int
    before: float
    after: float
    lost: int
    gained: int
    p_value: float
    clip_before: float | None
    clip_after: float | None
    clip_p_value: float | None
    pass_rate_fell: bool  # significantly after the correction across cases, and by more than the tolerance
    clip_score_fell: bool
    p_adjusted: float = 1.0  # Benjamini-Hochberg over the modality's cases, as the floors
    clip_p_adjusted: float | None = None
    alpha: float = 0.05

    @property
    def regressed(self) -> bool:
        return self.pass_rate_fell or self.clip_score_fell

    @property
    def decidable(self) -> bool:
        """Whether this case could fall significantly at all: its one-sided tests over its observed pairs (McNemar,
        sign-flip) go no lower than 2^-pairs, which must be below the level."""
        return 0.5 ** self.seeds < self.alpha

    def line(self) -> str:
        counted = "paired seeds" if self.seeds > 1 else "observed pair (every seed gave one same output)"
        text = (f"pass rate {self.before:.2f} -> {self.after:.2f} over {self.seeds} {counted} (lost {self.lost}, "
                f"gained {self.gained}; one-sided exact McNemar p={self.p_value:.3g}, Benjamini-Hochberg over the "
                f"cases p={self.p_adjusted:.3g})")
        if self.clip_before is not None and self.clip_after is not None:
            text += (f", CLIPScore {self.clip_before:.3f} -> {self.clip_after:.3f} (sign-flip "
                     f"p={self.clip_p_value:.3g}, Benjamini-Hochberg p={self.clip_p_adjusted:.3g})")
        return text


@dataclass(frozen=True)
class SliceChange:
    """The mean paired delta of one slice of outputs: a pass share (kind "pass") or a mean score ("score")."""

    name: str
    kind: str
    cases: int
    outputs: int
    changed: int  # cases whose outputs' deltas do not sum to zero: the sign-flip test's effective size
    before: float
    after: float
    interval: Interval
    p_value: float
    p_adjusted: float
    tolerance: float
    mde: float
    alpha: float
    design: tuple[tuple[float, float, int], ...] = field(default=(), repr=False, compare=False)
    # per case: (baseline mean, baseline within-case variance, observations), for the stated power
    gates: bool = True  # False: an early warning (a paired margin), corrected in its own family, never failing

    @property
    def regressed(self) -> bool:
        return self.gates and self.p_adjusted < self.alpha and self.interval.mean < -self.tolerance

    @property
    def distinct(self) -> int:
        """Distinct observed pairs: a case's seeds that all gave one output with one verdict count once."""
        return sum(n for _, _, n in self.design) if self.design else self.outputs

    @property
    def warns(self) -> bool:
        """An early-warning slice that fell significantly (any size): drift that has not flipped verdicts yet."""
        return not self.gates and self.p_adjusted < self.alpha and self.interval.mean < 0

    def line(self) -> str:
        i = self.interval
        return (f"{self.name}: {self.before:.3f} -> {self.after:.3f}, delta {i.mean:+.3f} "
                f"({i.confidence:.0%} CI {i.low:+.3f} to {i.high:+.3f}; {self.cases} cases, {self.changed} changed, "
                f"{self.outputs} outputs"
                + (f", {self.distinct} distinct" if self.distinct != self.outputs else "")
                + f"), p={self.p_value:.3g}, Holm p={self.p_adjusted:.3g}, "
                f"tolerance {self.tolerance:.3f}, "
                + (f"min. detectable fall {self.mde:.3f}" if self.mde < float("inf")
                   else "too few cases to reach significance after Holm") + ("  REGRESSED" if self.regressed else "")
                + ("" if self.gates else "  (early warning, does not gate" + (": FELL SIGNIFICANTLY)" if self.warns
                                                                               else ")")))


@dataclass(frozen=True)
class DistributionChange:
    """How the outputs' embeddings moved, on the paired outputs: CMMD (sigma 10 as published, and the median
    heuristic) with permutation p-values, diversity (mean spread across seeds per prompt), and k-NN precision
    (quality) and recall (diversity) of this run against the baseline, and against round 0 (the store's first
    run of this modality) when that is another run."""

    embedder: str
    outputs: int
    cmmd: MMDTest
    cmmd_median: MMDTest
    diversity_before: float
    diversity_after: float
    precision: float
    recall: float
    origin: str | None = None  # round 0's label, when round 0 is neither the baseline nor this run
    origin_precision: float | None = None
    origin_recall: float | None = None

    def line(self) -> str:
        origin = (f"; against round 0 ({self.origin!r}): precision {self.origin_precision:.3f}, recall "
                  f"{self.origin_recall:.3f}" if self.origin is not None else "")
        return (f"distribution ({self.embedder}, {self.outputs} paired outputs): CMMD sigma 10 {self.cmmd.mmd2:.2e} "
                f"(p={self.cmmd.p_value:.3g}), median-heuristic sigma {self.cmmd_median.sigma:.3f} "
                f"{self.cmmd_median.mmd2:.2e} (p={self.cmmd_median.p_value:.3g}); spread across seeds "
                f"{self.diversity_before:.3f} -> {self.diversity_after:.3f}; precision {self.precision:.3f}, "
                f"recall {self.recall:.3f} against the baseline{origin}")


@dataclass(frozen=True)
class ModalityComparison:
    modality: str
    baseline: str
    thresholds: Thresholds
    cases: tuple[CaseChange, ...]
    slices: tuple[SliceChange, ...]
    unpaired: int
    distribution: DistributionChange | None = None

    @property
    def regressions(self) -> tuple[SliceChange, ...]:
        return tuple(s for s in self.slices if s.regressed)

    @property
    def passed(self) -> bool:
        return not self.regressions and not any(c.regressed for c in self.cases)

    def case(self, case_id: str) -> CaseChange | None:
        return next((c for c in self.cases if c.case_id == case_id), None)

    def decidable_cases(self) -> set[str]:
        """The cases whose fall against the baseline could be significant with the pairs they have."""
        return {c.case_id for c in self.cases if c.decidable}

    def message(self) -> str:
        """What moved, significant regressions first, then every slice for context."""
        t = self.thresholds
        tested = sum(0.5 ** s.changed < t.alpha for s in self.slices)
        head = (f"{self.modality} against baseline {self.baseline}: {len(self.regressions)} significant regressions "
                f"(level {t.alpha:.2f} after Holm over the {tested} of {len(self.slices)} slices that changed enough "
                f"to be tested; tolerance {t.concept_tolerance:.2f} pass share, {t.clip_tolerance:.2f} CLIPScore)")
        unpaired = ([f"{self.unpaired} outputs had no partner (other cases or seeds) and were left out"]
                    if self.unpaired else [])
        distribution = [self.distribution.line()] if self.distribution else []
        return "\n".join([head, *unpaired, *distribution,
                          *(f"  {s.line()}" for s in sorted(self.slices, key=_worst_first))])


def _worst_first(s: SliceChange) -> tuple:
    return (not s.regressed, s.interval.mean)


@dataclass(frozen=True)
class _Output:
    """One output's verdicts: passed per (judge, metric), scores, and whether it passed every judge."""

    verdicts: Mapping[str, bool]
    scores: Mapping[str, float]
    artifact: str  # its content hash

    @property
    def passed(self) -> bool:
        return all(self.verdicts.values())


def _outputs(records: Iterable[Record]) -> dict[tuple[str, int], _Output]:
    verdicts: dict = defaultdict(dict)
    scores: dict = defaultdict(dict)
    artifacts = {}
    for r in records:
        if r.is_control:
            continue
        key = (r.case_id, r.seed)
        artifacts[key] = artifact_sha(r.artifact)
        if r.passed is None:
            scores[key][r.metric] = r.value
        else:  # a judge may give one metric twice (e.g. bias probed two ways): the output passes only if both do
            name = f"{r.judge}/{r.metric}"
            verdicts[key][name] = verdicts[key].get(name, True) and r.passed
    return {key: _Output(verdicts.get(key, {}), scores.get(key, {}), sha) for key, sha in artifacts.items()}


def _slice(name: str, kind: str, pairs: list[tuple[str, float, float]], tolerance: float, t: Thresholds,
           observed: Mapping[str, int]) -> SliceChange:
    """pairs: (case id, before, after) per output; observed: distinct observations per case. Holm's adjustment
    and the minimum detectable effect are set once the whole family of slices is known."""
    groups = [case for case, _, _ in pairs]
    deltas = [after - before for _, before, after in pairs]
    by_case: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for case, before, after in pairs:
        by_case[case].append((before, after))
    design = tuple((fmean(b for b, _ in v), pvariance([b for b, _ in v]), min(observed.get(case, len(v)), len(v)))
                   for case, v in by_case.items())
    changed = sum(abs(sum(a - b for b, a in v)) > 1e-12 for v in by_case.values())
    return SliceChange(name, kind, len(by_case), len(pairs), changed, fmean(b for _, b, _ in pairs),
                       fmean(a for _, _, a in pairs),
                       paired_bootstrap(deltas, groups=groups, confidence=t.confidence),
                       sign_flip_test(deltas, groups=groups), 1.0, tolerance, float("inf"), t.alpha, design)


def _mde(s: SliceChange, t: Thresholds, family: int) -> float:
    """The fall this slice detects with 80% power at Holm's strictest level over `family` slices (_power.py): from
    the binomial for pass shares; for scores from the baseline's within-case variance, on both sides."""
    from grounding.results._power import fall_mde, score_mde

    rates, variances, counts = zip(*s.design) if s.design else ((), (), ())
    if s.kind == "pass":
        return fall_mde(rates, counts, tolerance=s.tolerance, confidence=t.confidence, family=family)
    if all(n == 1 for n in counts) and len(rates) > 1:  # one value per case: its spread is across cases
        variances = (pvariance(rates),) * len(rates)
    return score_mde(variances, counts, tolerance=s.tolerance, confidence=t.confidence, family=family)


def _adjusted(tested: list[SliceChange], t: Thresholds) -> tuple[SliceChange, ...]:
    """Holm's correction over the slices that can reach significance at all (Tarone's rule for discrete tests:
    a sign-flip test over G changed cases cannot give p below 2^-G, so a slice with fewer changed cases can
    never reject and does not spend the family's error rate). The minimum detectable effect is stated for the
    family of slices that could be tested at this size (enough cases), whatever changed this time."""
    family = [i for i, s in enumerate(tested) if 0.5 ** s.changed < t.alpha]
    adjusted = dict(zip(family, holm([tested[i].p_value for i in family])))
    testable = max(sum(0.5 ** s.cases < t.alpha for s in tested), 1)
    return tuple(replace(s, p_adjusted=adjusted.get(i, 1.0), mde=_mde(s, t, testable)) for i, s in enumerate(tested))


def _observed(pairs: list[tuple[_Output, _Output]]) -> int:
    """Observed pairs: seeds that gave one same output with one verdict on both sides (greedy decoding) are one."""
    return 1 if len({(b.artifact, b.passed, a.artifact, a.passed) for b, a in pairs}) == 1 else len(pairs)


def _case_change(case_id: str, pairs: list[tuple[_Output, _Output]], t: Thresholds) -> CaseChange:
    """The case's fall over its observed pairs."""
    pairs = pairs[:_observed(pairs)]
    lost = sum(b.passed and not a.passed for b, a in pairs)
    gained = sum(a.passed and not b.passed for b, a in pairs)
    before, after = fmean(b.passed for b, _ in pairs), fmean(a.passed for _, a in pairs)
    p = mcnemar_exact(lost, gained, alternative="less")
    clip = [(b.scores["clip_score"], a.scores["clip_score"]) for b, a in pairs
            if "clip_score" in b.scores and "clip_score" in a.scores]
    clip_before = clip_after = clip_p = None
    clip_fell = False
    if clip:
        clip_before, clip_after = fmean(b for b, _ in clip), fmean(a for _, a in clip)
        clip_p = sign_flip_test([a - b for b, a in clip])
        clip_fell = clip_before - clip_after > t.clip_tolerance
    return CaseChange(case_id, len(pairs), before, after, lost, gained, p, clip_before, clip_after, clip_p,
                      before - after > t.tolerance, clip_fell,  # large enough; significance across cases follows
                      alpha=t.alpha)


def _cases_adjusted(changes: Sequence[CaseChange], t: Thresholds) -> tuple[CaseChange, ...]:
    """Each case's tests corrected across the modality's cases (Benjamini-Hochberg, as the floors are): a case
    falls only when it fell by more than the tolerance and significantly after the correction. Uncorrected, 120
    cases at 8 seeds would fail a healthy model by chance."""
    from grounding.results._floors import benjamini_hochberg

    mcnemar = benjamini_hochberg([c.p_value for c in changes])
    clipped = [i for i, c in enumerate(changes) if c.clip_p_value is not None]
    clip = dict(zip(clipped, benjamini_hochberg([changes[i].clip_p_value for i in clipped])))
    return tuple(replace(c, p_adjusted=p, pass_rate_fell=c.pass_rate_fell and p < t.alpha,
                         clip_p_adjusted=clip.get(i), clip_score_fell=c.clip_score_fell and clip.get(i, 1.0) < t.alpha)
                 for i, (c, p) in enumerate(zip(changes, mcnemar)))


def _distribution(paired: list, now: dict, before: dict, embeddings: Mapping[str, Sequence[float]], embedder: str,
                  t: Thresholds) -> tuple[DistributionChange | None, list]:
    """The distribution change, and the diversity slice (per prompt, spread across seeds relative to the
    baseline's mean spread) that gates with the others; (None, []) without enough embedded outputs."""
    keys = [k for k in paired if now[k].artifact in embeddings and before[k].artifact in embeddings]
    if len(keys) <= KNN:
        return None, []
    x = np.array([embeddings[before[k].artifact] for k in keys])
    y = np.array([embeddings[now[k].artifact] for k in keys])
    spreads = []
    for case in sorted({k[0] for k in keys}):
        rows = [i for i, k in enumerate(keys) if k[0] == case]
        if len(rows) > 1:
            spreads.append((case, spread(x[rows]), spread(y[rows])))
    before_spread = fmean(b for _, b, _ in spreads) if spreads else 0.0
    after_spread = fmean(a for _, _, a in spreads) if spreads else 0.0
    change = DistributionChange(embedder, len(keys), cmmd(x, y, sigma=10.0), cmmd(x, y, sigma="median"),
                                before_spread, after_spread, *precision_recall(x, y, KNN))
    if before_spread <= 0:  # one output per prompt (greedy decoding, one seed): no diversity to lose
        return change, []
    relative = [(case, b / before_spread, a / before_spread) for case, b, a in spreads]
    return change, [("diversity (spread across seeds, relative)", "score", relative, t.concept_tolerance)]


def compare(modality: str, current: Iterable[Record], baseline: Iterable[Record], cases: Mapping[str, Case],
            thresholds: Thresholds = Thresholds(), *, baseline_name: str = "baseline",
            embeddings: Mapping[str, Sequence[float]] | None = None, embedder: str = "") -> ModalityComparison:
    """Pair the two runs' outputs of one modality (the baseline's only on these cases) and test every slice for a
    significant fall. With `embeddings` (artifact hash -> vector, both runs), also the distribution change."""
    t = thresholds
    now = _outputs(r for r in current if r.modality == modality)
    before = _outputs(r for r in baseline if r.modality == modality and r.case_id in cases)
    paired = sorted(now.keys() & before.keys())
    by_case: dict[str, list[tuple[_Output, _Output]]] = defaultdict(list)
    for key in paired:
        by_case[key[0]].append((before[key], now[key]))
    observed = {cid: _observed(pairs) for cid, pairs in by_case.items()}
    case_changes = _cases_adjusted([_case_change(cid, pairs, t) for cid, pairs in sorted(by_case.items())], t)

    pass_pairs = {"all outputs": [(k[0], float(before[k].passed), float(now[k].passed)) for k in paired]}
    for word in sorted({w for cid in by_case for w in concept_words(cases.get(cid))}):
        pass_pairs[f"concept {word!r}"] = [(k[0], float(before[k].passed), float(now[k].passed))
                                           for k in paired if word in concept_words(cases.get(k[0]))]
    # A verdict a judge did not give on one side (it did not apply: no bandit finding to assure about) is not a
    # failure there, so a false assurance that appears only now still pairs with the baseline's output.
    for metric in sorted({m for k in paired for m in now[k].verdicts.keys() | before[k].verdicts.keys()}):
        pass_pairs[metric] = [(k[0], float(before[k].verdicts.get(metric, True)),
                               float(now[k].verdicts.get(metric, True)))
                              for k in paired if metric in now[k].verdicts or metric in before[k].verdicts]
    everyone = len(by_case)
    wanted = [(name, "pass", pairs, t.concept_tolerance) for name, pairs in pass_pairs.items()
              if name == "all outputs" or not name.startswith("concept")
              or 1 < len({c for c, _, _ in pairs}) < everyone]  # one case is a case; every case is "all outputs"
    clip = [(k[0], before[k].scores["clip_score"], now[k].scores["clip_score"]) for k in paired
            if "clip_score" in now[k].scores and "clip_score" in before[k].scores]
    if clip:
        wanted.append(("clip/clip_score", "score", clip, t.clip_tolerance))
    warnings = {name: [(k[0], before[k].scores[metric], now[k].scores[metric]) for k in paired
                       if metric in now[k].scores and metric in before[k].scores]
                for name, metric in EARLY_WARNINGS.items()}
    if not paired:
        return ModalityComparison(modality, baseline_name, t, (), (), len(now) + len(before))
    distribution, diversity = _distribution(paired, now, before, embeddings or {}, embedder, t)
    slices = _adjusted([_slice(name, kind, pairs, tol, t, observed)
                        for name, kind, pairs, tol in wanted + diversity], t)
    early = [replace(_slice(name, "score", pairs, 0.0, t, observed), gates=False) for name, pairs in warnings.items()
             if pairs]
    slices += _adjusted(early, t)  # its own Holm family: an early warning costs the gating slices no power
    return ModalityComparison(modality, baseline_name, t, case_changes, slices,
                              len(now.keys() ^ before.keys()), distribution)


def concept_words(case: Case | None) -> set[str]:
    """The concept words a case is tested under: its concepts and its category."""
    if case is None:
        return set()
    return {w for w in (*case.concepts, case.category) if w}


def with_origin(comparison: ModalityComparison, origin: tuple[str, list[Record]], records: list[Record],
                embeddings: Mapping[str, Sequence[float]]) -> ModalityComparison:
    """The comparison with precision and recall of this run against round 0, on the outputs both have."""
    label, first = origin
    now, then = _outputs(r for r in records if r.modality == comparison.modality), _outputs(first)
    keys = [k for k in sorted(now.keys() & then.keys())
            if now[k].artifact in embeddings and then[k].artifact in embeddings]
    if comparison.distribution is None or len(keys) <= KNN:
        return comparison
    precision, recall = precision_recall([embeddings[then[k].artifact] for k in keys],
                                         [embeddings[now[k].artifact] for k in keys], KNN)
    return replace(comparison, distribution=replace(comparison.distribution, origin=label, origin_precision=precision,
                                                    origin_recall=recall))
