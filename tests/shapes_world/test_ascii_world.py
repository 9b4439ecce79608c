"""The ASCII shapes world: its renderer and the oracle that reads character grids back."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grounding.shapes_world.ascii import (ALL_ASCII_SPECS, SCENES, AsciiSpec, ascii_caption,
                                          ascii_contrasts, ascii_spec_from_text, check_ascii, draw_ascii, read_ascii)

ALL_SPECS = list(ALL_ASCII_SPECS)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.label().replace(" ", "-"))
def test_oracle_reads_back_every_drawing(spec):
    for seed in range(5):
        art = draw_ascii(spec, random.Random(seed))
        assert read_ascii(art).spec == spec, art


@given(spec=st.sampled_from(ALL_SPECS), ink=st.text(alphabet="#*@%+=XO", min_size=1, max_size=3),
       seed=st.integers(0, 100))
@settings(max_examples=200, deadline=None)
def test_oracle_ignores_which_characters_are_ink(spec, ink, seed):
    art = draw_ascii(spec, random.Random(seed))
    if not spec.scene:  # scenes use their characters (eyes, arrow heads) as part of the picture
        rng = random.Random(seed)
        art = "".join(rng.choice(ink) if ch == "#" else ch for ch in art)
    assert read_ascii(art).spec == spec


def test_no_drawing_is_read_as_another_spec():
    seen = {spec: read_ascii(draw_ascii(spec)).spec for spec in ALL_SPECS}
    assert len(set(seen.values())) == len(ALL_SPECS)


@pytest.mark.parametrize("text,problem", [
    ("", "empty"),
    ("Here is a circle for you, I hope that you like it\n#\n#", "prose"),
    ("#" * 90 + "\n#\n#", "larger than 80 columns"),
    ("#\n" * 50, "larger than"),
    ("\U0001f600\U0001f600\n\U0001f600\U0001f600\n\U0001f600\U0001f600", "not printable ASCII"),  # text art (\u25cf) reads
    ("##\n##", "prose"),  # two rows are not a picture
])
def test_outputs_that_are_not_ascii_art_are_named(text, problem):
    seen = read_ascii(text)
    assert seen.spec is None and problem in seen.problem
    ok, why = check_ascii(seen, AsciiSpec("circle", "small", "filled"))
    assert not ok and problem in why


def test_check_names_what_was_expected_and_what_was_seen():
    art = draw_ascii(AsciiSpec("square", "large", "filled"))
    ok, why = check_ascii(read_ascii(art), AsciiSpec("circle", "large", "filled"))
    assert not ok and why == "oracle: expected large filled circle, saw large filled square"
    assert check_ascii(read_ascii(art), AsciiSpec("square", "large", "filled"))[0]


def test_captions_and_contrasts_change_one_word():
    spec = AsciiSpec("circle", "small", "outlined")
    assert ascii_caption(spec) == "a small outlined circle"
    assert ascii_contrasts(spec) == ["a small outlined square", "a small outlined triangle",
                                     "a large outlined circle", "a small filled circle"]
    assert ascii_caption(AsciiSpec(scene="arrow pointing left")) == "an arrow pointing left"
    assert len(ascii_contrasts(AsciiSpec(scene="house"))) == len(SCENES) - 1


@pytest.mark.parametrize("text,label", [
    ("Draw a small outlined square in ASCII art.", "small outlined square"),
    ("It shows a large, filled triangle.", "large filled triangle"),
    ("circles", "circle"),
    ("A smiley!", "smiley face"),
    ("an arrow pointing left", "arrow pointing left"),
])
def test_spec_from_text_reads_the_world_words(text, label):
    assert ascii_spec_from_text(text).label() == label


@pytest.mark.parametrize("text", ["a dog", "a circle and a square", "small or large"])
def test_spec_from_text_refuses_text_outside_or_ambiguous(text):
    assert ascii_spec_from_text(text) is None


def test_the_second_hand_draws_its_size_word_and_the_oracle_keeps_only_true_labels():
    """`ascii_varied` (the ASCII CLIP judge's second training hand) nearly always keeps a drawing's visual extent
    inside its size word's default range (a typed outline can drop an empty row); training keeps a drawing only
    where the oracle reads its label, and every drawing the oracle accepts has the right size."""
    from math import ceil

    from grounding.shapes_world.ascii import SizeRule, check_ascii, read_ascii
    from grounding.shapes_world.ascii_varied import draw_varied, random_varied_spec

    rng = random.Random(2)
    sized = kept = 0
    for _ in range(400):
        spec = random_varied_spec(rng)
        lines = [line for line in draw_varied(spec, rng).split("\n") if line.strip()]
        body = [line[min(len(x) - len(x.lstrip()) for x in lines):] for line in lines]
        right_size = SizeRule().word(max(len(body), ceil(max(map(len, body)) / 2))) == spec.size
        sized += right_size
        if check_ascii(read_ascii("\n".join(lines)), spec)[0]:
            kept += 1
            assert right_size, "\n".join(lines)
    assert sized >= 0.95 * 400 and kept >= 0.85 * 400
