"""The grounding tests every suite module runs. A suite module names its modality and case file and imports
them (pytest collects imported test functions like its own):

    import pytest

    from grounding.suite import (test_instruction_is_grounded, test_no_significant_regression,
                                 test_pass_rate_of_all_cases_is_above_the_floor)

    pytestmark = pytest.mark.grounding("svg", cases="cases/svg.toml")

`case` is parametrized from the case file by the plugin; `grounding_suite` is the modality's ModalityResults.
"""

import pytest

__all__ = ["test_instruction_is_grounded", "test_pass_rate_of_all_cases_is_above_the_floor",
           "test_no_significant_regression"]


def test_instruction_is_grounded(case, grounding_suite):
    """The case's pass rate is not significantly below --min-pass-rate and, against --baseline, has not fallen.
    Skipped, with its outcome, when its observations could not have failed it (undecidable alone)."""
    verdict = grounding_suite.verdict(case.id)
    if not verdict.passed:
        pytest.fail(verdict.message(), pytrace=False)
    undecided = grounding_suite.undecided(case.id)  # e.g. one output of greedy decoding: it could not have failed
    if undecided:
        pytest.skip(undecided)


def test_pass_rate_of_all_cases_is_above_the_floor(grounding_suite):
    """The pooled rate of every output is not significantly below --min-pass-rate (a drift too thin per case)."""
    if grounding_suite.floors.pooled.failed:
        pytest.fail(grounding_suite.floor_message(), pytrace=False)
    if not grounding_suite.floors.pooled.decidable:
        pytest.skip(f"undecidable: all cases pooled: {grounding_suite.floors.pooled.undecided()}")


def test_no_significant_regression(grounding_suite):
    """Against --baseline: no slice (all outputs, a concept, a judge's metric) fell significantly beyond its
    tolerance."""
    if grounding_suite.comparison is None:
        pytest.skip("no --baseline to compare with")
    if grounding_suite.comparison.regressions:
        pytest.fail(grounding_suite.regression_message(), pytrace=False)
