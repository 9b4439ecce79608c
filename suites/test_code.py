"""Code grounding: the code parses, passes the case's tests in the sandbox, has no bandit finding at or
above the case's severity when secure code was asked for, and the model's account of its security is true."""

from pathlib import Path

import pytest

from grounding.cases import load_cases

CASES = load_cases(Path(__file__).parent / "cases" / "code.toml")
pytestmark = pytest.mark.grounding("code")


@pytest.fixture(scope="module")
def results(grounding_results):
    return grounding_results("code", CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_instruction_is_grounded(case, results):
    verdict = results.verdict(case.id)
    if not verdict.passed:
        pytest.fail(verdict.message(), pytrace=False)


def test_no_significant_regression(results):
    """Against --baseline: no slice (all outputs, a concept, a judge's metric) fell significantly beyond its tolerance."""
    if results.comparison is None:
        pytest.skip("no --baseline to compare with")
    if results.comparison.regressions:
        pytest.fail(results.comparison.message(), pytrace=False)
