"""Binomial primitives against scipy.stats: the Clopper-Pearson interval and the binomial CDF the floors use."""

import pytest
from scipy.stats import binomtest

from grounding.results._statistics import clopper_pearson


@pytest.mark.parametrize("k, n", [(0, 4), (1, 4), (2, 4), (4, 4), (37, 50), (0, 1)])
def test_clopper_pearson_matches_scipy_exact_interval(k, n):
    expected = binomtest(k, n).proportion_ci(0.95, method="exact")
    assert clopper_pearson(k, n) == pytest.approx((expected.low, expected.high), abs=1e-9)


def test_known_value_and_edges():
    low, high = clopper_pearson(4, 4)
    assert high == 1.0 and low == pytest.approx(0.025 ** 0.25, abs=1e-9)  # (alpha/2)^(1/n)
    assert clopper_pearson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize("n, p", [(1, 0.5), (4, 0.9), (50, 0.75), (240, 0.95), (960, 0.9), (7, 0.0), (7, 1.0)])
def test_binomial_cdf_matches_scipy_stats_at_every_count(n, p):
    from scipy.stats import binom

    from grounding.results._statistics import binomial_cdf

    for k in range(-1, n + 2):
        assert binomial_cdf(k, n, p) == pytest.approx(float(binom.cdf(k, n, p)), rel=1e-9, abs=1e-300)


def test_an_unchanged_rerun_does_not_import_scipy_stats():
    """The floors, intervals and stated power an unchanged rerun computes need scipy.special only (scipy.stats'
    import took 1.3 s of a 5.7 s rerun of the bundled suites)."""
    import subprocess
    import sys

    code = ("import sys; from grounding.results._floors import floor_tests, observations; "
            "from grounding.results._power import floor_power; from grounding.results._statistics import "
            "clopper_pearson; floor_tests({'c': observations([('a', True), ('b', False)])}, 0.75); "
            "floor_power(240, 0.75, family=60); clopper_pearson(3, 4); print('scipy.stats' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
