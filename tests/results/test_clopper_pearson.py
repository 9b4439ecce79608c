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
