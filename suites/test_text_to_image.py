"""Text-to-image grounding: each instruction must be drawn as asked, judged by CLIP and the shapes-world oracle."""

import pytest

from grounding.suite import (test_instruction_is_grounded, test_no_significant_regression,  # noqa: F401
                             test_pass_rate_of_all_cases_is_above_the_floor)

pytestmark = pytest.mark.grounding("text-to-image", cases="cases/text_to_image.toml")


def test_judge_rejects_blank_and_noise(grounding_suite):
    """The CLIP judge must not let a blank or a noise image outrank any case's contrasts."""
    leaks = grounding_suite.leaks()
    if leaks:
        pytest.fail("the judge passed a control image:\n" + "\n".join(f"  {cid}: {why}" for cid, why in leaks),
                    pytrace=False)
