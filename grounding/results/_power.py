"""What a run of a given size can detect: its stated power.

- `floor_power`: the true pass rate below which a case (or the pooled modality) fails the floor test with 80%
  probability, exactly from the binomial, at the strictest level Benjamini-Hochberg applies to a lone failure.
- `fall_mde`: the uniform fall of a pass share (all outputs, or one concept's) that a comparison with a
  baseline of the same size detects with 80% probability: significant at Holm's strictest level over the
  slices and larger than the tolerance. Normal approximation with the two runs' outputs taken as independent
  draws; paired seeds of a slightly changed model agree more than that, so the true power is higher (the
  verdict-power benchmark measures it).
- `plan`: the seeds per case that reach a target detectable fall for a given number of cases.

Pure functions on numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Sequence

from grounding.results._statistics import binomial_cdf

POWER = 0.8


@dataclass(frozen=True)
class FloorPower:
    observations: int
    floor: float
    level: float  # the one-sided level a lone failing hypothesis is tested at (alpha / family)
    detectable_rate: float | None  # fails with 80% power when the true rate is at or below this; None: never
    needed: int  # observations at which a hypothesis that fails every output can fail alone

    def line(self, what: str) -> str:
        if self.detectable_rate is None:
            plural = "s" * (self.observations != 1)
            return (f"{what} cannot fail the floor alone with {self.observations} observation{plural} (it needs "
                    f"at least {self.needed}, all failing, at level {self.level:.2g})")
        return (f"{what} fails the floor {self.floor:.2f} with {POWER:.0%} power when its true pass rate is "
                f"{self.detectable_rate:.2f} or lower ({self.observations} observations)")


def _critical(n: int, floor: float, level: float) -> int | None:
    """The largest pass count whose one-sided binomial p-value against `floor` is at most `level` (bisection: the
    p-value rises with the count)."""
    low, high = -1, n  # binomial_cdf(low) <= level < binomial_cdf(high) = 1 (level < 1)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if binomial_cdf(mid, n, floor) <= level else (low, mid)
    return low if low >= 0 else None


def floor_power(observations: int, floor: float, *, confidence: float = 0.95, family: int = 1) -> FloorPower:
    """The floor test's power for one hypothesis of `observations` observations in a family of `family`."""
    level = (1 - confidence) / max(family, 1)
    needed = 1
    while floor < 1 and (1 - floor) ** needed > level:
        needed += 1
    k = _critical(observations, floor, level) if observations else None
    if k is None:
        return FloorPower(observations, floor, level, None, needed)
    low, high = 0.0, floor  # binomial_cdf(k, n, r) falls as r rises: bisect for the rate where it is POWER
    for _ in range(50):
        mid = (low + high) / 2
        low, high = (mid, high) if binomial_cdf(k, observations, mid) >= POWER else (low, mid)
    return FloorPower(observations, floor, level, low, needed)


def _z(level: float) -> float:
    return NormalDist().inv_cdf(1 - level)


def _detectable(se, cases: int, tolerance: float, level: float) -> float:
    """The smallest fall d found with 80% power by the sign-flip test over `cases` case deltas whose mean has
    standard error se(d), and larger than the tolerance. The test's null spread is the deltas' own root mean
    square, which holds the fall itself: d >= z_level * sqrt(se^2 + d^2 / cases) + z_power * se."""
    if cases == 0 or 0.5 ** cases >= level:
        return math.inf
    z_level, z_power = _z(level), _z(1 - POWER)

    def enough(d: float) -> bool:
        spread = se(d)
        return (d >= tolerance + z_power * spread
                and d >= z_level * math.sqrt(spread ** 2 + d * d / cases) + z_power * spread)

    if not enough(1.0):
        return math.inf
    low, high = 0.0, 1.0
    for _ in range(50):
        mid = (low + high) / 2
        low, high = (low, mid) if enough(mid) else (mid, high)
    return high


def fall_mde(rates: Sequence[float], observations: Sequence[int], *, tolerance: float, confidence: float = 0.95,
             family: int = 1) -> float:
    """The smallest uniform fall of a pass share over cases with these rates and observation counts that is
    found with 80% power (infinite when the sign-flip test over this few cases cannot reach the level)."""
    def se(fall: float) -> float:
        total = sum((p * (1 - p) + max(p - fall, 0) * (1 - max(p - fall, 0))) / max(n, 1)
                    for p, n in zip(rates, observations))
        return math.sqrt(total) / len(rates)

    return _detectable(se, len(rates), tolerance, (1 - confidence) / max(family, 1))


def score_mde(variances: Sequence[float], observations: Sequence[int], *, tolerance: float,
              confidence: float = 0.95, family: int = 1) -> float:
    """As fall_mde, for a mean score: each case's delta has the baseline's within-case variance on both sides."""
    spread = math.sqrt(sum(2 * v / max(n, 1) for v, n in zip(variances, observations))) / max(len(variances), 1)
    return _detectable(lambda _: spread, len(variances), tolerance, (1 - confidence) / max(family, 1))


@dataclass(frozen=True)
class PlanRow:
    seeds: int
    cases: int
    outputs: int
    mde: float
    floor: FloorPower


def plan(rate: float, cases: int, *, tolerance: float, floor: float = 0.75,
         confidence: float = 0.95, family: int = 1, seeds: Sequence[int] = (1, 2, 4, 8, 16, 32, 64)) -> list[PlanRow]:
    """For each number of seeds: the detectable fall of a slice of `cases` cases at pass rate `rate`, and the floor
    test's power per case."""
    return [PlanRow(n, cases, n * cases, fall_mde([rate] * cases, [n] * cases, tolerance=tolerance,
                                                 confidence=confidence, family=family),
                    floor_power(n, floor, confidence=confidence, family=cases + 1)) for n in seeds]


@dataclass(frozen=True)
class StatedPower:
    """What a run of this size detects: per case and pooled against the floor, and against a baseline of the
    same size, the fall of all outputs and of each concept."""

    case_floor: FloorPower
    pooled_floor: FloorPower
    all_outputs: float
    concepts: dict[str, float]

    def lines(self) -> list[str]:
        finite = sorted(v for v in self.concepts.values() if v < math.inf)
        concepts = (f"; per concept {finite[0]:.3f} to {finite[-1]:.3f} ({len(finite)} of {len(self.concepts)} "
                    f"testable)" if finite else "; no concept has enough cases to be tested alone")
        fall = (f"a uniform fall of the pass share is found with {POWER:.0%} power from {self.all_outputs:.3f} "
                f"(all outputs)" if self.all_outputs < math.inf else
                "no fall of the pass share can be significant (all outputs: too few cases)")
        lines = [f"power: {self.case_floor.line('a case')}; {self.pooled_floor.line('all cases pooled')}",
                 f"power: against a baseline of this size, {fall}{concepts}"]
        if finite:
            ranked = sorted((v, word) for word, v in self.concepts.items() if v < math.inf)
            alone = sorted(word for word, v in self.concepts.items() if v == math.inf)
            lines.append("power: detectable fall per concept: " + ", ".join(f"{w} {v:.3f}" for v, w in ranked)
                         + (f"; too few cases to test alone: {', '.join(alone)}" if alone else ""))
        return lines


def stated_power(rates: dict[str, float], observations: dict[str, int], concepts: dict[str, list[str]], *,
                 floor: float, tolerance: float, confidence: float = 0.95, metrics: int = 1) -> StatedPower:
    """rates, observations: per case id; concepts: concept word -> its case ids. The family of slices is all
    outputs, each concept and each judge's metric, as a comparison would test them."""
    ids = list(rates)
    family = 1 + len(concepts) + metrics
    typical = sorted(observations.values())[len(observations) // 2] if observations else 0

    def mde(chosen: list[str]) -> float:
        return fall_mde([rates[c] for c in chosen], [observations[c] for c in chosen], tolerance=tolerance,
                        confidence=confidence, family=family)

    return StatedPower(floor_power(typical, floor, confidence=confidence, family=len(ids) + 1),
                       floor_power(sum(observations.values()), floor, confidence=confidence, family=len(ids) + 1),
                       mde(ids), {word: mde(chosen) for word, chosen in concepts.items()})
