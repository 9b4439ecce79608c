from collections import Counter
from pathlib import Path

import pytest

from grounding.inputs._cases import load_cases
from grounding.errors import GroundingUsageError

SUITE_CASES = Path(__file__).parents[2] / "suites" / "cases" / "text_to_image.toml"


def test_suite_case_file_covers_every_category():
    cases = load_cases(SUITE_CASES)
    assert len(cases) >= 60
    categories = Counter(c.category for c in cases)
    assert set(categories) == {"attribute", "size", "spatial", "binding", "count"}
    assert all(c.contrasts and c.instruction not in c.contrasts for c in cases)
    assert all(c.expect.get("things") for c in cases)


def test_case_file_matches_the_grammar_that_generates_it():
    from grounding import shapes_world

    for case in load_cases(SUITE_CASES):
        spec = shapes_world.spec_from_dict(case.expect)
        assert shapes_world.caption(spec) == case.instruction
        assert list(case.contrasts) == shapes_world.contrasts(spec)


CASE = '[[case]]\nid = "a"\ninstruction = "a red circle"\n'


@pytest.mark.parametrize("text, problem", [
    ("", "no `modality` string"),
    ('modality = "text-to-image"\n', "it holds no \\[\\[case\\]\\] tables"),
    ('modality = "x"\n[[case]]\ninstruction = "a red circle"\n', "case #1: lacks id"),
    ('modality = "x"\n[[case]]\nid = "a"\ninstruction = "b"\n[[case]]\nid = "a"\ninstruction = "c"\n', "appears twice"),
    ("modality = [\n", "not valid TOML"),
    ('modality = "x"\n' + CASE + 'contrasts = "a red square"\n', "`contrasts` must be a list of strings, not a string"),
    ('modality = "x"\n[[case]]\nid = 1\ninstruction = "b"\n', "`id` must be a string, not int"),
    ('modality = "x"\n[[case]]\nid = "1"\ninstruction = "b"\n[[case]]\nid = 1\ninstruction = "c"\n',
     "case #2: `id` must be a string"),
    ('modality = "x"\n[[case]]\nid = " "\ninstruction = "b"\n', "`id` is empty"),
    ('modality = "x"\n' + CASE + 'instructions = "typo"\n', "unknown key\\(s\\) 'instructions'"),
    ('modality = "x"\n' + CASE + 'concepts = ["red", 2]\n', "`concepts` must be a list of strings"),
    ('modality = "x"\ncases = []\n' + CASE, "unknown top-level key\\(s\\) 'cases'"),
    ('modality = "x"\n' + CASE + 'expect = "red"\n', "`expect` must be a table, not a string"),
    ('modality = "text-to-image"\n' + CASE + 'expect = { things = 5 }\n',
     "`expect` `things` must be a non-empty list of tables, not int"),
    ('modality = "text-to-image"\n' + CASE + 'expect = { things = [{ colour = "teal", shape = "circle" }] }\n',
     "item 1: `colour` must be one of"),
    ('modality = "text-to-image"\n' + CASE + 'expect = { things = [{ shape = "circle" }] }\n', "item 1: lacks colour"),
    ('modality = "text-to-image"\n' + CASE + 'expect = { things = [{ colour = "red", shape = "circle" }], count = 2.5 }\n',
     "`count` must be a whole number"),
    ('modality = "ascii-art"\n' + CASE + 'expect = { shape = "hexagon" }\n', "`shape` must be one of"),
    ('modality = "code"\n' + CASE + 'expect = { severity = "critical" }\n', "`severity` must be one of"),
    ('modality = "code"\n' + CASE + 'expect = { sandbox = { subprocess = "yes" } }\n', "must be true or false"),
    ('modality = "code"\n' + CASE + 'expect = { skip_tests = "test_a" }\n', "`skip_tests` must be a list of strings"),
    ('modality = "code"\n' + CASE + 'expect = { confidence = "sure" }\n', "`confidence` must be one of"),
    ('modality = "code"\n' + CASE + 'expect = { skip_findings = ["shell"] }\n', "list of bandit test ids"),
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


def test_a_modality_without_bundled_judges_keeps_its_expect_table(tmp_path):
    path = tmp_path / "cases.toml"
    path.write_text('modality = "audio"\n' + CASE + 'expect = { pitch = 440.0, anything = ["goes"] }\n')
    (case,) = load_cases(path)
    assert case.modality == "audio" and case.expect == {"pitch": 440.0, "anything": ["goes"]}
