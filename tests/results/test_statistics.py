"""Drift statistics on synthetic score sets with known answers: false-alarm rates on identical distributions,
detection of planted shifts, and exact values where they exist."""

import numpy as np
import pytest
from scipy.stats import binomtest

from grounding.results._statistics import (cmmd, holm, mcnemar_exact, median_bandwidth, mmd2, paired_bootstrap,
                                           precision_recall, sign_flip_test, spread)


def test_bootstrap_interval_of_a_constant_is_the_constant():
    interval = paired_bootstrap([0.25] * 10)
    assert (interval.mean, interval.low, interval.high, interval.n) == (0.25, 0.25, 0.25, 10)
    assert interval.excludes_zero()


def test_bootstrap_false_alarm_rate_on_identical_distributions_is_near_the_stated_rate():
    rng = np.random.default_rng(1)
    alarms = sum(paired_bootstrap(rng.normal(0, 1, 60), resamples=1000, seed=i).excludes_zero()
                 for i in range(300))
    assert alarms / 300 <= 0.09  # stated 5%; the percentile bootstrap runs a little liberal at n=60


def test_bootstrap_detects_a_planted_shift():
    rng = np.random.default_rng(2)
    detected = sum(paired_bootstrap(rng.normal(-0.5, 1, 60), resamples=1000, seed=i).high < 0
                   for i in range(100))
    assert detected >= 95


def test_bootstrap_needs_data():
    with pytest.raises(ValueError):
        paired_bootstrap([])


@pytest.mark.parametrize("lost,gained", [(0, 0), (5, 0), (7, 2), (3, 3), (12, 4), (0, 9)])
def test_mcnemar_matches_the_exact_binomial_test(lost, gained):
    expected = 1.0 if lost + gained == 0 else binomtest(lost, lost + gained, 0.5).pvalue
    assert mcnemar_exact(lost, gained) == pytest.approx(expected)


def test_holm_known_answer():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_mmd_is_near_zero_for_one_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, (200, 8)), rng.normal(0, 1, (200, 8))
    assert abs(mmd2(a, b, 2.0)) < 0.01
    assert mmd2(a, b + 1.0, 2.0) > 0.1


def test_median_bandwidth_of_unit_gaussians():
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (300, 16))
    assert median_bandwidth(x[:150], x[150:]) == pytest.approx(np.sqrt(2 * 16), rel=0.1)


def test_cmmd_permutation_test_holds_its_level_and_finds_a_shift():
    rng = np.random.default_rng(5)
    def unit(v):
        return v / np.linalg.norm(v, axis=1, keepdims=True)
    null_p = [cmmd(unit(rng.normal(0, 1, (40, 16))), unit(rng.normal(0, 1, (40, 16))), sigma="median",
                   permutations=99, seed=i).p_value for i in range(60)]
    assert np.mean(np.array(null_p) <= 0.05) <= 0.12
    shifted = cmmd(unit(rng.normal(0, 1, (40, 16))), unit(rng.normal(0, 1, (40, 16)) + 0.8), sigma="median",
                   permutations=199)
    assert shifted.p_value <= 0.01 and shifted.mmd2 > 0


def test_published_sigma_shrinks_a_diversity_loss_that_the_median_heuristic_shows_plainly():
    """On unit-norm embeddings sigma = 10 makes the kernel nearly linear, so its MMD mostly measures the mean
    shift: a collapse of diversity around the same mean (the first symptom of self-consuming loops) comes out
    ~70x smaller than with the median bandwidth (measured: 0.0029 vs 0.20). The permutation test still rejects
    here, with 60 samples a side; as a reported effect size the published sigma understates the loss."""
    rng = np.random.default_rng(6)
    def unit(v):
        return v / np.linalg.norm(v, axis=1, keepdims=True)
    centre = unit(rng.normal(0, 1, (1, 16)))
    diverse = unit(centre + 0.6 * rng.normal(0, 1, (60, 16)))
    collapsed = unit(centre + 0.1 * rng.normal(0, 1, (60, 16)))
    published = cmmd(diverse, collapsed, sigma=10.0, permutations=199)
    median = cmmd(diverse, collapsed, sigma="median", permutations=199)
    assert median.p_value <= 0.01
    assert published.mmd2 < median.mmd2 / 50


def test_one_sided_mcnemar_is_the_binomial_tail_of_the_gains():
    assert mcnemar_exact(4, 0, alternative="less") == 1 / 16
    assert mcnemar_exact(0, 4, alternative="less") == 1.0
    assert mcnemar_exact(7, 2, alternative="less") == pytest.approx(binomtest(7, 9, 0.5, "greater").pvalue)


def test_sign_flip_test_is_exact_for_few_groups():
    assert sign_flip_test([-1, -1, -1]) == 1 / 8  # only the observed signs are as low
    assert sign_flip_test([0, 0, 0]) == 1.0
    assert sign_flip_test([1, 1, 1]) == 1.0
    # four seeds of one case are one group: as little evidence as a single delta
    assert sign_flip_test([-1] * 4, groups=["a"] * 4) == 0.5


def test_sign_flip_false_alarms_and_power_with_many_groups():
    rng = np.random.default_rng(5)
    alarms = sum(sign_flip_test(rng.normal(0, 1, 40), permutations=2000, seed=i) < 0.05 for i in range(200))
    assert alarms / 200 <= 0.08
    detected = sum(sign_flip_test(rng.normal(-0.6, 1, 40), permutations=2000, seed=i) < 0.05 for i in range(50))
    assert detected >= 45


def test_group_bootstrap_is_wider_than_one_that_treats_seeds_as_independent():
    rng = np.random.default_rng(6)
    per_case = rng.normal(0, 1, 15)
    deltas = np.repeat(per_case, 4)  # four identical seeds per case, as a greedy model gives
    groups = np.repeat(np.arange(15), 4)
    naive, grouped = paired_bootstrap(deltas), paired_bootstrap(deltas, groups=groups)
    assert grouped.mean == pytest.approx(naive.mean)
    assert (grouped.high - grouped.low) > 1.7 * (naive.high - naive.low)  # sqrt(4) in theory


def test_spread_is_the_mean_pairwise_distance():
    assert spread([[0, 0], [3, 4]]) == 5.0
    assert spread([[1, 1]] * 4) == 0.0 and spread([[1, 1]]) == 0.0
    # greedy decoding repeats one output for every seed: its spread is zero, not rounding noise (which, divided
    # by a baseline spread of the same noise, once made a diversity "regression" out of nothing)
    vectors = np.random.default_rng(0).normal(size=(50, 384)) / 7
    assert all(spread([v] * 4) == 0.0 for v in vectors)


def test_precision_and_recall_see_quality_and_diversity_apart():
    rng = np.random.default_rng(7)
    base = rng.normal(0, 1, (300, 4))
    same = precision_recall(base, rng.normal(0, 1, (300, 4)))
    collapsed = precision_recall(base, rng.normal(0, 0.2, (300, 4)))  # all in the middle: diversity lost
    off = precision_recall(base, rng.normal(4, 1, (300, 4)))  # elsewhere: quality lost
    assert same[0] > 0.85 and same[1] > 0.85
    assert collapsed[0] > 0.95 and collapsed[1] < 0.5
    assert off[0] < 0.2
    with pytest.raises(ValueError):
        precision_recall(base[:3], base[:3])
