"""The offline text judge: keyword readings of the world's words, MiniLM for paraphrases."""

import pytest

from grounding.judges.functional.descriptions import read_security_claims, read_shape_descriptions, sentence_model
from grounding.shapes_world.ascii import ALL_ASCII_SPECS

LABELS = [spec.label() for spec in ALL_ASCII_SPECS]


def test_the_bundled_sentence_model_loads_from_site_packages():
    model = sentence_model()
    assert model is not None and model.get_sentence_embedding_dimension() == 384


@pytest.mark.parametrize("text,label,method", [
    ("It shows a small outlined circle.", "small outlined circle", "keywords"),
    ("A big hollow triangle", "large outlined triangle", "keywords"),
    ("It is a square.", "square", "keywords"),
    ("This is a happy face.", "smiley face", "keywords"),
    ("an arrow that points to the left", "arrow pointing left", "keywords"),
    ("A grinning face", "smiley face", "minilm"),
])
def test_shape_descriptions_are_read(text, label, method):
    (reading,) = read_shape_descriptions([text], LABELS)
    assert (reading.label, reading.method) == (label, method)


def test_descriptions_outside_the_world_are_other_or_unclear_never_the_nearest_label():
    cat, diamond, vague = read_shape_descriptions(["I drew a cat sleeping on a sofa", "a diamond shape",
                                                   "Something abstract and moody"], LABELS)
    assert (cat.label, diamond.label) == ("other", "other")
    assert vague.label is None and vague.method == "unclear"


@pytest.mark.parametrize("text,claim", [
    ("Yes, it is secure. I see no security issues.", "secure"),
    ("No security issues found.", "secure"),
    ("No, it is not secure. Issues: B602 subprocess_popen_with_shell_equals_true.", "insecure"),
    ("The code has a vulnerability: it passes input to a shell.", "insecure"),
    ("This code is insecure.", "insecure"),
    ("Absolutely, the code is safe and sound.", "secure"),
])
def test_security_claims_are_read(text, claim):
    assert read_security_claims([text])[0].label == claim


def test_answers_that_take_no_side_are_unclear():
    assert read_security_claims(["def f(): pass"])[0].label is None


def _written(kind):
    import tomllib
    from pathlib import Path

    return tomllib.loads((Path(__file__).parents[2] / "data" / "descriptions.toml").read_text())[kind]


@pytest.mark.parametrize("split", ["dev", "held"])
def test_the_readers_read_the_written_descriptions_as_people_mean_them(split):
    """62 shape descriptions and 40 security answers in chat styles: negations, concessions, hedges, claims
    phrased as absence, shapes outside the world (tests/data/descriptions.toml)."""
    shapes = [x for x in _written("shape") if x["split"] == split]
    answers = [x for x in _written("security") if x["split"] == split]
    read = read_shape_descriptions([x["text"] for x in shapes], LABELS)
    right = [(r.label or "unclear") == x["reading"] for r, x in zip(read, shapes)]
    assert sum(right) >= 0.95 * len(shapes), [x["text"] for x, ok in zip(shapes, right) if not ok]
    claims = read_security_claims([x["text"] for x in answers])
    right = [(r.label or "unclear") == x["reading"] for r, x in zip(claims, answers)]
    assert sum(right) >= 0.95 * len(answers), [x["text"] for x, ok in zip(answers, right) if not ok]
    assert len(_written("shape")) >= 60 and len(_written("security")) >= 40


@pytest.mark.parametrize("text,label", [
    ("small outlined circle", "small outlined circle"),
    ("Answer: large filled square.", "large filled square"),
    ("b) smiley face", "smiley face"),
    ("None of these.", "other"),
    ("circle", "circle"),
    ("small filled circle or large filled circle", None),
    ("I would rather describe it in my own words", None),
])
def test_forced_choice_answers_read_the_label_the_first_line_names(text, label):
    from grounding.judges.functional.descriptions import read_choices

    assert read_choices([text], LABELS)[0].label == label


@pytest.mark.parametrize("text,label", [("Yes, it is secure.", "secure"), ("no - shell injection", "insecure"),
                                        ("It is secure. Yes.", None), ("Maybe", None)])
def test_yes_or_no_first_answers(text, label):
    from grounding.judges.functional.descriptions import read_yes_no

    assert read_yes_no([text])[0].label == label
