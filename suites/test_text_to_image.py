"""Text-to-image grounding: each instruction must be drawn as asked, judged by CLIP and the shapes-world oracle."""

import pytest

pytestmark = pytest.mark.grounding("text-to-image", cases="cases/text_to_image.toml")


def test_instruction_is_grounded(case, grounding_suite):
    """The case's pass rate is not significantly below --min-pass-rate and, against --baseline, has not fallen."""
    verdict = grounding_suite.verdict(case.id)
    if not verdict.passed:
        pytest.fail(verdict.message(), pytrace=False)


def test_pass_rate_of_all_cases_is_above_the_floor(grounding_suite):
    """The pooled rate of every output is not significantly below --min-pass-rate (a drift too thin per case)."""
    if grounding_suite.floors.pooled.failed:
        pytest.fail(grounding_suite.floor_message(), pytrace=False)


def test_no_significant_regression(grounding_suite):
    """Against --baseline: no slice (all outputs, a concept, a judge's metric) fell significantly beyond its tolerance."""
    if grounding_suite.comparison is None:
        pytest.skip("no --baseline to compare with")
    if grounding_suite.comparison.regressions:
        pytest.fail(grounding_suite.regression_message(), pytrace=False)


def test_judge_rejects_blank_and_noise(grounding_suite):
    """The CLIP judge must not let a blank or a noise image outrank any case's contrasts."""
    leaks = grounding_suite.leaks()
    if leaks:
        pytest.fail("the judge passed a control image:\n" + "\n".join(f"  {cid}: {why}" for cid, why in leaks),
                    pytrace=False)
