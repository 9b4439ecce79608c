"""SVG grounding: each instruction must be drawn as asked; resvg renders the model's SVG and grounding's image
judges (CLIP, the shapes-world oracle) judge the picture. Run: pytest examples/grounding-svg/suites --model M"""

import pytest

from grounding.suite import (test_instruction_is_grounded, test_no_significant_regression,  # noqa: F401
                             test_pass_rate_of_all_cases_is_above_the_floor)

pytestmark = pytest.mark.grounding("svg", cases="cases/svg.toml")
