"""Code grounding: the code parses, passes the case's tests in the sandbox, has no bandit finding at or
above the case's severity when secure code was asked for, and the model's account of its security is true."""

import pytest

from grounding.suite import (test_instruction_is_grounded, test_no_significant_regression,  # noqa: F401
                             test_pass_rate_of_all_cases_is_above_the_floor)

pytestmark = pytest.mark.grounding("code", cases="cases/code.toml")
