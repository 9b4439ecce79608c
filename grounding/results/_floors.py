"""Absolute floors without a baseline: is a case's pass rate, or the modality's, significantly below the floor?

A case fails its floor when a one-sided exact binomial test rejects "its true pass rate is at least the floor"
at the run's confidence, after the Benjamini-Hochberg correction across the modality's cases and its pooled
rate (one family per modality). For a healthy model every hypothesis of the family is true, and then the
chance that any of them fails is at most 1 - confidence, however many cases there are; a case whose true rate
sits at 0.9 no longer fails a 0.75 floor by the luck of 4 seeds. The plain rule ("fails when its pass rate is
below the floor") stays available as `rule="point"`.

Observations are counted as observed: seeds that all gave the one same output (greedy decoding) are one
observation, not four.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Collection, Mapping, Sequence

from grounding.results._statistics import binomial_cdf, clopper_pearson

RULES = ("test", "point")
POOLED = "all cases"


@dataclass(frozen=True)
class Observations:
    """A case's distinct observations: how many there are and how many passed, from how many seeds."""

    passed: int
    total: int
    seeds: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def counted(self, unit: str = "seeds") -> str:
        if self.total == self.seeds:
            return f"{self.total} {unit}"
        return f"{self.total} distinct output{'s' * (self.total != 1)} of {self.seeds} {unit}"


def observations(outcomes: Sequence[tuple[str, bool]]) -> Observations:
    """(artifact hash, passed) per seed. Seeds that gave different outputs are independent draws and each counts;
    when every seed gave the one same output with the one same verdict (a model that ignores the seed, as under
    greedy decoding), that is a single observation. Partial coincidences under sampling are draws like any other
    and count."""
    if not outcomes:
        return Observations(0, 0, 0)
    if len(set(outcomes)) == 1 and len(outcomes) > 1:
        return Observations(int(outcomes[0][1]), 1, len(outcomes))
    return Observations(sum(ok for _, ok in outcomes), len(outcomes), len(outcomes))


@lru_cache(maxsize=4096)
def binomial_below(passed: int, total: int, floor: float) -> float:
    """One-sided exact binomial p-value of `passed` or fewer passes out of `total` when the true rate is `floor`
    (1 when nothing was observed)."""
    return binomial_cdf(passed, total, floor)


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (step-up, monotone, capped at 1), in the input's order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i], reverse=True)
    adjusted = [1.0] * m
    running = 1.0
    for rank_from_top, i in enumerate(order):
        running = min(running, pvalues[i] * m / (m - rank_from_top))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class FloorTest:
    """One case's (or the pooled) pass rate against the floor."""

    name: str
    observed: Observations
    floor: float
    interval: tuple[float, float]
    p_value: float
    p_adjusted: float
    confidence: float
    rule: str
    family: int  # hypotheses corrected together: the modality's cases and its pooled rate

    @property
    def failed(self) -> bool:
        if self.rule == "point":
            return self.observed.rate < self.floor
        return self.p_adjusted < 1 - self.confidence

    def line(self) -> str:
        o = self.observed
        unit = "outputs" if self.name == POOLED else "seeds"
        rate = (f"pass rate {o.rate:.2f} ({o.passed}/{o.total}) over {o.counted(unit)}, "
                f"{self.confidence:.0%} Clopper-Pearson {self.interval[0]:.2f}-{self.interval[1]:.2f}")
        if self.rule == "point":
            verdict = "below" if self.failed else "not below"
            return f"{rate}: {verdict} the floor {self.floor:.2f} (--floor-rule point: the rate itself is compared)"
        verdict = "significantly below" if self.failed else "not significantly below"
        return (f"{rate}: {verdict} the floor {self.floor:.2f} (one-sided exact binomial p={self.p_value:.3g}, "
                f"Benjamini-Hochberg over {self.family} p={self.p_adjusted:.3g}, level {1 - self.confidence:.2f})")

    @property
    def decidable(self) -> bool:
        """Whether these observations could fail the floor at all: under the test rule, only when every one of
        them failing would be significant at the run's level, the most Benjamini-Hochberg grants one hypothesis.
        One or two distinct outputs against a 0.75 floor at 0.05 never can: passing such a test is no evidence."""
        return self.rule == "point" or binomial_below(0, self.observed.total, self.floor) < 1 - self.confidence

    def undecided(self) -> str:
        """What was observed and why that cannot decide the test (for a test that is not decidable)."""
        o = self.observed
        outcome = ("nothing observed" if not o.total else "passed" if o.passed == o.total else "failed"
                   if not o.passed else "mixed") + f" ({o.passed}/{o.total})"
        return f"{o.counted('outputs' if self.name == POOLED else 'seeds')}, {outcome}: {self.needed()}"

    def needed(self) -> str:
        """What it takes for a hypothesis to fail this floor at all, at the run's level."""
        alpha, needed = 1 - self.confidence, 1
        if self.floor <= 0:
            return "no pass rate is below a floor of 0"
        while (1 - self.floor) ** needed >= alpha:
            needed += 1
        return (f"it takes {needed} distinct outputs, all failing, to be significantly below the floor "
                f"{self.floor:.2f} at level {alpha:.2f} (the most the correction grants: every case failing)")


@dataclass(frozen=True)
class Floors:
    """A modality's floor tests: one per case and the pooled rate of all its observations."""

    cases: Mapping[str, FloorTest]
    pooled: FloorTest

    def failed_cases(self) -> list[FloorTest]:
        return [t for t in self.cases.values() if t.failed]

    def undecidable_cases(self, decided: Collection[str] = ()) -> list[FloorTest]:
        """The cases whose own observations could never fail the floor (they count in the pooled rate), but for
        those `decided` otherwise (a fall against a baseline that could be significant)."""
        return [t for name, t in self.cases.items() if not t.decidable and name not in decided]

    def undecidable_line(self, decided: Collection[str] = ()) -> str | None:
        """How many cases are undecidable alone and why, or None when every case could fail."""
        undecided = self.undecidable_cases(decided)
        if not undecided:
            return None
        fewest = min(undecided, key=lambda t: t.observed.total).observed
        return (f"undecidable alone: {len(undecided)} of {len(self.cases)} cases, reported as skipped, not passed "
                f"(as few as {fewest.counted()}; {undecided[0].needed()}); they count in the pooled floor")


def floor_tests(cases: Mapping[str, Observations], floor: float, *, confidence: float = 0.95,
                rule: str = "test") -> Floors:
    """Test every case and the pooled rate against `floor`, corrected together (Benjamini-Hochberg)."""
    if rule not in RULES:
        raise ValueError(f"floor rule must be one of {RULES}, not {rule!r}")
    pooled = Observations(sum(o.passed for o in cases.values()), sum(o.total for o in cases.values()),
                          sum(o.seeds for o in cases.values()))
    named = {**cases, POOLED: pooled}
    raw = {name: binomial_below(o.passed, o.total, floor) for name, o in named.items()}
    adjusted = dict(zip(raw, benjamini_hochberg(list(raw.values()))))
    tests = {name: FloorTest(name, o, floor, clopper_pearson(o.passed, o.total, confidence), raw[name],
                             adjusted[name], confidence, rule, len(named)) for name, o in named.items()}
    pooled_test = tests.pop(POOLED)
    return Floors(tests, pooled_test)
