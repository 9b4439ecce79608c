"""Reading ASCII art drawn by others: the art taken out of a chat answer, and shapes read by their geometry at
any size, aspect, ink and outline characters; an honest "none of these" when nothing fits."""

from __future__ import annotations

import pytest

from grounding.judges.functional.ascii_art import judge_ascii, size_rule, spec_for
from grounding.shapes_world.ascii import AsciiSpec, SizeRule, read_ascii
from grounding.shapes_world.ascii_read import extract_art

TRIANGLE = "    /\\\n   /  \\\n  /    \\\n /______\\"


@pytest.mark.parametrize("answer, where", [
    (f"Sure! Here's a triangle:\n\n```\n{TRIANGLE}\n```\n\nHope this helps!", "fenced block 1 of 1"),
    (f"```text\n{TRIANGLE}\n```", "fenced block 1 of 1"),
    (f"~~~\n{TRIANGLE}\n~~~\nA triangle.", "fenced block 1 of 1"),
    (f"Here:\n```python\nprint('hi there, friend')\n```\nand the art:\n```\n{TRIANGLE}\n```", "fenced block 2 of 2"),
    (f"Here is the triangle you asked for.\n\n{TRIANGLE}\n\nLet me know if you want another.", "lines 3-6"),
    (TRIANGLE, "the whole answer"),
    ("\n".join("\t" + line for line in TRIANGLE.split("\n")), "the whole answer"),
])
def test_the_art_is_taken_out_of_the_answer_and_the_reading_says_from_where(answer, where):
    seen = read_ascii(answer)
    assert seen.where.startswith(where)
    assert seen.spec == AsciiSpec("triangle", "small", "outlined"), seen


@pytest.mark.parametrize("art, shape, style", [
    ("+-------+\n|       |\n|       |\n|       |\n+-------+", "square", "outlined"),
    ("+--------------------+\n|                    |\n+--------------------+", "rectangle", "outlined"),
    ("#####\n#####\n#####\n#####\n#####", "square", "filled"),
    ("@@@@@@@@@@@@@@@@@@@@\n@@@@@@@@@@@@@@@@@@@@\n@@@@@@@@@@@@@@@@@@@@", "rectangle", "filled"),
    ("    *\n   * *\n  *   *\n *     *\n*       *\n *     *\n  *   *\n   * *\n    *", "diamond", "outlined"),
    ("  **\n ****\n******\n ****\n  **", "diamond", "filled"),
    ("#\n##\n###\n####\n#####\n######", "triangle", "filled"),
    ("|\\\n| \\\n|  \\\n|   \\\n|____\\", "triangle", "outlined"),
    ("#########\n #######\n  #####\n   ###\n    #", "triangle", "filled"),
    ("   *****\n *       *\n*         *\n*         *\n *       *\n   *****", "circle", "outlined"),
    ("   #####\n #########\n###########\n###########\n #########\n   #####", "circle", "filled"),
])
def test_shapes_are_read_by_geometry_whatever_draws_them(art, shape, style):
    seen = read_ascii(art)
    assert (seen.spec.shape, seen.spec.style) == (shape, style), seen


@pytest.mark.parametrize("art", [
    "#\n#\n#\n#\n#######",  # an L
    "  *\n*****\n  *\n  *",  # a cross
    "#   #\n ###\n#   #\n ###",  # a scribble
])
def test_art_no_known_shape_fits_is_art_read_honestly_as_none_of_these(art):
    seen = read_ascii(art)
    assert seen.problem == "" and seen.spec is None
    assert seen.describe().startswith("ASCII art, but none of circle, square, triangle, rectangle, diamond")
    form, oracle = judge_ascii(art, AsciiSpec("square"))
    assert form.passed is True and oracle.passed is False  # art, but not the art asked for


def test_size_words_follow_the_thresholds_a_case_states():
    box = "\n".join(["#" * 8] * 4)  # 4 rows by 8 columns: a visual extent of 4 rows
    assert read_ascii(box).spec.size == "small"
    assert read_ascii(box, SizeRule(small_max_rows=3, large_min_rows=4)).spec.size == "large"
    expect = {"small_max_rows": 3, "large_min_rows": 5}
    assert read_ascii(box, size_rule(expect)).spec.size is None  # between the two: no size word fits
    assert spec_for("Draw a large filled square.", expect) == AsciiSpec("square", "large", "filled")
    assert not judge_ascii(box, spec_for("Draw a large square.", {}), size_rule({}))[1].passed
    assert judge_ascii(box, spec_for("Draw a large square.", {}), SizeRule(3, 4))[1].passed


def test_a_rectangle_asked_accepts_a_square_but_not_the_reverse():
    square, wide = "\n".join(["#" * 9] * 5), "\n".join(["#" * 30] * 3)
    assert judge_ascii(square, AsciiSpec("rectangle"))[1].passed
    assert not judge_ascii(wide, AsciiSpec("square"))[1].passed
    assert judge_ascii(wide, AsciiSpec("rectangle"))[1].passed


def test_prose_is_not_art_and_says_so_apart_from_unknown_shapes():
    form, oracle = judge_ascii("I'm sorry, I cannot draw pictures, but a circle is round.", AsciiSpec("circle"))
    assert form.passed is False and "prose" in form.explanation and not oracle.passed


def test_extraction_keeps_art_drawn_in_letters():
    art = "XXOXX\nXX   XX\nOO   XO\nOX   OX\nOOXXO"
    assert extract_art(art).where == "the whole answer"


@pytest.mark.parametrize("art, shape, style", [
    ("┌──────┐\n│      │\n│      │\n└──────┘", "square", "outlined"),
    ("╔════╗\n║    ║\n╚════╝", "square", "outlined"),
    ("██████\n██████\n██████", "square", "filled"),
    ("▓▓▓▓▓▓▓▓▓▓▓▓\n▓▓▓▓▓▓▓▓▓▓▓▓\n▓▓▓▓▓▓▓▓▓▓▓▓", "rectangle", "filled"),
    ("  ▲\n ▲▲▲\n▲▲▲▲▲", "triangle", "filled"),
])
def test_unicode_text_art_is_read_as_the_ascii_it_stands_for(art, shape, style):
    seen = read_ascii(f"Here you go:\n```\n{art}\n```\nHope you like it!")
    assert seen.spec is not None and (seen.spec.shape, seen.spec.style) == (shape, style), seen.describe()


def test_text_art_the_font_lacks_is_rendered_not_a_crash():
    from grounding.judges.functional.ascii_art import ascii_image, render_ascii

    assert render_ascii("████\n█  █\n████ 😀").size[0] > 0
    assert ascii_image("┌──┐\n│  │\n└──┘").size == (64, 64)


@pytest.mark.parametrize("answer, shape, style", [
    ("```\n=== diamond ===\n   *\n  ***\n *****\n*******\n *****\n  ***\n   *\n```", "diamond", "filled"),
    ("```\n+----+\n|    |\n|    |\n+----+\n(a square)\n```", "square", "outlined"),
    ("Square:\n+----+\n|    |\n|    |\n+----+\nThat is a small square.", "square", "outlined"),
])
def test_titles_and_captions_beside_the_art_are_left_out_and_said(answer, shape, style):
    seen = read_ascii(answer)
    assert seen.spec is not None and (seen.spec.shape, seen.spec.style) == (shape, style), seen.describe()
    assert "title or caption line(s) left out" in seen.where or "prose around them" in seen.where


def test_a_label_inside_the_art_is_ink_and_does_not_break_the_shape():
    seen = read_ascii("```\n+--------+\n|        |\n|  BOX   |\n|        |\n+--------+\n```")
    assert seen.spec is not None and seen.spec.shape in ("square", "rectangle")


@pytest.mark.parametrize("art, shape, style", [
    ("    *\n   * *\n  * * *\n * * * *\n* * * * *", "triangle", "filled"),
    ("● ● ● ●\n● ● ● ●\n● ● ● ●", "square", "filled"),
    ("* * * * *\n*       *\n*       *\n* * * * *", "square", "outlined"),
])
def test_art_drawn_with_spaces_between_its_marks_is_read_as_a_person_reads_it(art, shape, style):
    seen = read_ascii(art)
    assert seen.spec is not None and (seen.spec.shape, seen.spec.style) == (shape, style), seen.describe()


def test_a_small_outline_with_one_space_inside_keeps_its_inside():
    seen = read_ascii(" .-. \n(   )\n '-' ")
    assert seen.spec is not None and seen.spec.style == "outlined", seen.describe()
