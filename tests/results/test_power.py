"""Stated power: exact for the floor test, conservative (checked by simulation) for a fall against a baseline."""

import math

import numpy as np
import pytest
from scipy.stats import binom

from grounding.results._statistics import sign_flip_test
from grounding.results._power import fall_mde, floor_power, plan, score_mde, stated_power


def test_floor_power_known_answers():
    lone = floor_power(4, 0.75, family=61)  # the default text-to-image suite: 60 cases and the pooled rate
    assert lone.detectable_rate is None and lone.needed == 6  # 0.25^5 = 0.00098 > 0.05/61 > 0.25^6
    assert "cannot fail the floor alone with 4 observations (it needs at least 6" in lone.line("a case")
    assert floor_power(6, 0.75, family=61).detectable_rate is not None
    pooled = floor_power(240, 0.75, family=61)
    critical = max(k for k in range(241) if binom.cdf(k, 240, 0.75) <= 0.05 / 61)
    assert binom.cdf(critical, 240, pooled.detectable_rate) == pytest.approx(0.8, abs=1e-6)
    assert floor_power(240, 0.75).detectable_rate > pooled.detectable_rate  # a smaller family tests at a looser level


def test_the_stated_detectable_fall_is_found_at_least_that_often():
    """40 cases at 0.9, 8 seeds: a uniform fall of the stated size, baseline and candidate drawn independently, is
    found by the sign-flip test over cases at least 80% of the time (the statement is conservative)."""
    rates, seeds = [0.9] * 40, 8
    mde = fall_mde(rates, [seeds] * 40, tolerance=0.0)
    assert 0.05 < mde < 0.15
    rng = np.random.default_rng(3)
    found = 0
    for _ in range(200):
        before = rng.binomial(seeds, 0.9, 40) / seeds
        after = rng.binomial(seeds, 0.9 - mde, 40) / seeds
        found += sign_flip_test(after - before, permutations=2000, seed=int(rng.integers(1 << 30))) < 0.05
    assert found / 200 >= 0.78


def test_detectable_falls_shrink_with_size_and_need_enough_cases():
    rows = plan(0.98, 60, tolerance=0.02, family=20)
    assert [r.seeds for r in rows] == [1, 2, 4, 8, 16, 32, 64]
    assert all(a.mde > b.mde for a, b in zip(rows, rows[1:])) and rows[-1].mde > 0.02
    assert rows[2].floor.detectable_rate is None and rows[4].floor.detectable_rate > 0.2
    assert fall_mde([0.9] * 4, [8] * 4, tolerance=0.0) == math.inf  # 4 cases: a sign flip cannot reach 0.05
    assert fall_mde([0.9] * 60, [4] * 60, tolerance=0.3) > 0.3  # a fall must also exceed the tolerance
    assert score_mde([0.0] * 30, [4] * 30, tolerance=0.1) == pytest.approx(0.1)


def test_stated_power_lines():
    power = stated_power({f"c{i}": 0.95 for i in range(60)}, {f"c{i}": 4 for i in range(60)},
                         {"red": [f"c{i}" for i in range(10)], "lone": ["c0", "c1"]}, floor=0.75, tolerance=0.05)
    assert power.concepts["lone"] == math.inf and power.all_outputs < power.concepts["red"] < 1
    text = "\n".join(power.lines())
    assert "a case cannot fail the floor alone with 4 observations" in text and "(all outputs)" in text
    assert f"detectable fall per concept: red {power.concepts['red']:.3f}; too few cases to test alone: lone" in text
    tiny = "\n".join(stated_power({"a": 1.0, "b": 1.0}, {"a": 1, "b": 1}, {}, floor=0.75, tolerance=0.05).lines())
    assert "no fall of the pass share can be significant (all outputs: too few cases)" in tiny and "inf" not in tiny
