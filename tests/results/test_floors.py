"""Absolute floors: exact binomial tests corrected across a modality's cases, on distinct observations.

Known answers on small numbers, the level held for a healthy model over many simulated seed windows, and a
planted fall found."""

import numpy as np
import pytest

from grounding.results._floors import Observations, benjamini_hochberg, binomial_below, floor_tests, observations


def test_binomial_tail_known_answers():
    assert binomial_below(0, 4, 0.75) == pytest.approx(0.25 ** 4)
    assert binomial_below(1, 4, 0.75) == pytest.approx(0.25 ** 4 + 4 * 0.75 * 0.25 ** 3)
    assert binomial_below(4, 4, 0.75) == 1.0 and binomial_below(0, 0, 0.75) == 1.0
    assert binomial_below(3, 4, 1.0) == 0.0 and binomial_below(0, 4, 0.0) == 1.0


def test_benjamini_hochberg_known_answer():
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    assert benjamini_hochberg([0.2]) == [0.2] and benjamini_hochberg([]) == []


def test_seeds_that_gave_one_output_are_one_observation():
    assert observations([("a", False)] * 4) == Observations(0, 1, 4)
    assert observations([("a", True), ("b", True), ("c", False), ("d", True)]) == Observations(3, 4, 4)
    # a coincidence under sampling (two seeds, one output) is a draw like any other
    assert observations([("a", True), ("a", True), ("b", False), ("c", True)]) == Observations(3, 4, 4)
    # one output judged differently per seed (a sampled self-description) is not one observation
    assert observations([("a", True), ("a", False)]) == Observations(1, 2, 2)
    assert Observations(0, 1, 4).counted() == "1 distinct output of 4 seeds"


def _window(rng, rates, seeds):
    return {f"case-{i}": Observations(int(k), seeds, seeds) for i, k in enumerate(rng.binomial(seeds, rates))}


def test_a_healthy_model_fails_its_floors_at_most_at_the_stated_level():
    """60 cases at a true rate of 0.9 (above the 0.75 floor), 4 seeds, 2000 fresh seed windows."""
    rng = np.random.default_rng(0)
    rates = np.full(60, 0.9)
    tested = point = 0
    for _ in range(2000):
        floors = floor_tests(_window(rng, rates, 4), 0.75, confidence=0.95)
        tested += bool(floors.failed_cases() or floors.pooled.failed)
        point += bool(floor_tests(_window(rng, rates, 4), 0.75, rule="point").failed_cases())
    assert tested / 2000 <= 0.05
    assert point / 2000 > 0.9  # the point rule fails a healthy model almost every time at this size


def test_a_planted_fall_is_found_and_only_there():
    rng = np.random.default_rng(1)
    rates = np.array([0.05] * 20 + [0.95] * 40)  # 0 of 4 for about 16 of the 20 (1 of 4 is p=0.051: not enough)
    floors = floor_tests(_window(rng, rates, 4), 0.75)
    failed = {t.name for t in floors.failed_cases()}
    assert len(failed) >= 14 and failed <= {f"case-{i}" for i in range(20)}
    assert "significantly below the floor 0.75" in floors.cases["case-0"].line()


def test_one_observation_per_case_can_only_fail_pooled():
    """A greedy model drawing every case wrong: 16 cases of one output each. No single output is evidence at the
    5% level; together they are."""
    floors = floor_tests({f"c{i}": Observations(0, 1, 4) for i in range(16)}, 0.75)
    assert not floors.failed_cases() and floors.pooled.failed
    assert floors.pooled.observed == Observations(0, 16, 64)
    assert "(0/16) over 16 distinct outputs of 64 outputs" in floors.pooled.line()


def test_point_rule_compares_the_rate_itself():
    floors = floor_tests({"a": Observations(2, 4, 4), "b": Observations(4, 4, 4)}, 0.75, rule="point")
    assert [t.name for t in floors.failed_cases()] == ["a"] and "--floor-rule point" in floors.cases["a"].line()
    assert not floor_tests({"a": Observations(2, 4, 4)}, 0.75).failed_cases()


def test_a_floor_test_is_decidable_only_when_all_its_observations_failing_would_be_significant():
    """At 0.75 and level 0.05 all of 1 or 2 failing outputs are not evidence (p = 0.25, 0.0625); 3 are (0.0156).
    The point rule always decides; a test that cannot decide says what it saw and what it would take."""
    floors = floor_tests({"one": Observations(0, 1, 4), "two": Observations(1, 2, 2), "three": Observations(3, 3, 3),
                          "none": Observations(0, 0, 0)}, 0.75)
    assert {t.name: t.decidable for t in floors.cases.values()} == {"one": False, "two": False, "three": True,
                                                                     "none": False}
    assert [t.name for t in floors.undecidable_cases()] == ["one", "two", "none"]
    assert [t.name for t in floors.undecidable_cases(decided={"two"})] == ["one", "none"]
    assert floors.cases["one"].undecided() == ("1 distinct output of 4 seeds, failed (0/1): it takes 3 distinct "
                                               "outputs, all failing, to be significantly below the floor 0.75 at "
                                               "level 0.05 (the most the correction grants: every case failing)")
    assert "2 seeds, mixed (1/2)" in floors.cases["two"].undecided()
    assert floors.undecidable_line().startswith("undecidable alone: 3 of 4 cases, reported as skipped, not passed "
                                                "(as few as 0 seeds;")
    assert floor_tests({"a": Observations(0, 1, 4)}, 0.75, rule="point").cases["a"].decidable
    assert floor_tests({"a": Observations(0, 1, 1)}, 0.95, confidence=0.9).cases["a"].decidable  # 0.05 < 0.1
    assert not floor_tests({"a": Observations(0, 2, 2)}, 0.75, confidence=0.99).cases["a"].decidable
    assert floor_tests({"a": Observations(3, 3, 3)}, 0.75).undecidable_line() is None
