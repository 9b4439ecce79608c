from collections import Counter
from pathlib import Path

import pytest

from grounding.cases import load_cases
from grounding.errors import GroundingUsageError

SUITE_CASES = Path(__file__).parents[1] / "suites" / "cases" / "text_to_image.toml"


def test_suite_case_file_covers_every_category():
    cases = load_cases(SUITE_CASES)
    assert len(cases) >= 60
    categories = Counter(c.category for c in cases)
    assert set(categories) == {"attribute", "size", "spatial", "binding", "count"}
    assert all(c.contrasts and c.instruction not in c.contrasts for c in cases)
    assert all(c.expect.get("things") for c in cases)


def test_case_file_matches_the_grammar_that_generates_it():
    import shapes_world

    for case in load_cases(SUITE_CASES):
        spec = shapes_world.spec_from_dict(case.expect)
        assert shapes_world.caption(spec) == case.instruction
        assert list(case.contrasts) == shapes_world.contrasts(spec)


@pytest.mark.parametrize("text, problem", [
    ("", "no `modality` key"),
    ('modality = "text-to-image"\n', "it holds no cases"),
    ('modality = "x"\n[[case]]\ninstruction = "a red circle"\n', "case #1 lacks id"),
    ('modality = "x"\n[[case]]\nid = "a"\ninstruction = "b"\n[[case]]\nid = "a"\ninstruction = "c"\n', "appears twice"),
    ("modality = [\n", "not valid TOML"),
])
def test_bad_case_files_get_one_clear_message(tmp_path, text, problem):
    path = tmp_path / "cases.toml"
    path.write_text(text)
    with pytest.raises(GroundingUsageError, match=problem) as err:
        load_cases(path)
    assert "[[case]]" in str(err.value) and "\n" not in str(err.value)


def test_missing_case_file(tmp_path):
    with pytest.raises(GroundingUsageError, match="no such file"):
        load_cases(tmp_path / "nope.toml")


def test_ascii_and_code_case_files_cover_their_ground():
    ascii_cases = load_cases(SUITE_CASES.parent / "ascii_art.toml")
    assert {c.category for c in ascii_cases} == {"shape", "scene"} and len(ascii_cases) == 16
    assert all(len(c.contrasts) >= 3 for c in ascii_cases)
    code = load_cases(SUITE_CASES.parent / "code.toml")
    assert len(code) >= 40 and len({c.category for c in code}) == 10
    assert all(c.expect["tests"].strip() and c.expect["severity"] in {"low", "medium"} for c in code)
    assert sum("secure" in c.instruction.lower() for c in code) == len(code) // 2
