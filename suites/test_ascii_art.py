"""ASCII-art grounding: each drawing must show what was asked (the shapes-world oracle on the character grid),
and the model must describe its own drawing as it is, blind and with an instruction in its context."""

import pytest

from grounding.suite import (test_instruction_is_grounded, test_no_significant_regression,  # noqa: F401
                             test_pass_rate_of_all_cases_is_above_the_floor)

pytestmark = pytest.mark.grounding("ascii-art", cases="cases/ascii_art.toml")
