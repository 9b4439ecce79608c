"""Text-to-image grounding: each instruction must be drawn as asked, judged by CLIP and the shapes-world oracle."""

from pathlib import Path

import pytest

from grounding.cases import load_cases

CASES = load_cases(Path(__file__).parent / "cases" / "text_to_image.toml")
pytestmark = pytest.mark.grounding("text-to-image")


@pytest.fixture(scope="module")
def results(grounding_results):
    return grounding_results("text-to-image", CASES)


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


def test_judge_rejects_blank_and_noise(results):
    """The CLIP judge must not let a blank or a noise image outrank any case's contrasts."""
    leaks = [(cid, r.explanation) for cid in results.cases for r in results.controls(cid) if not r.passed]
    if leaks:
        pytest.fail("the judge passed a control image:\n" + "\n".join(f"  {cid}: {why}" for cid, why in leaks),
                    pytrace=False)
