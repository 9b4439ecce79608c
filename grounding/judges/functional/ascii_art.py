"""Judging ASCII art: is it ASCII art at all, and what does the shapes-world oracle read on its grid."""

from __future__ import annotations

from typing import Any, Mapping

from grounding.types import Score


def spec_for(instruction: str, expect: Mapping[str, Any] | None = None):
    """The ASCII spec a case expects: its `expect` table, else the shapes words of its instruction."""
    from grounding.shapes_world.ascii import ascii_spec_from_dict, ascii_spec_from_text

    named = expect and any(k in expect for k in ("shape", "size", "style", "scene"))
    return ascii_spec_from_dict(expect) if named else ascii_spec_from_text(instruction)


def ascii_art_of(text: str) -> str:
    """The picture inside an answer (a fenced block, or the lines between the prose), as the oracle reads it."""
    from grounding.shapes_world.ascii_read import extract_art

    return extract_art(text).art


def size_rule(expect: Mapping[str, Any] | None):
    """The size words' thresholds a case states (`small_max_rows`, `large_min_rows`), else the defaults."""
    from grounding.shapes_world.ascii import SizeRule

    expect = expect or {}
    default = SizeRule()
    return SizeRule(expect.get("small_max_rows", default.small_max_rows),
                    expect.get("large_min_rows", default.large_min_rows))


def judge_ascii(text: str, spec, sizes=None) -> list[Score]:
    """Well-formedness and the oracle's verdict for one output; `spec` may be None (well-formedness only)."""
    from grounding.shapes_world.ascii import read_ascii

    return judge_seen(read_ascii(text, sizes or size_rule(None)), spec)


def judge_seen(seen, spec) -> list[Score]:
    """`judge_ascii` for art the oracle has already read."""
    from grounding.shapes_world.ascii import check_ascii

    where = {"judged": seen.where}
    form = Score("ascii", "is_ascii_art", float(not seen.problem), not seen.problem,
                 (seen.problem or f"ASCII art, {seen.width}x{seen.height} characters") + f" (judged: {seen.where})",
                 where)
    if spec is None:
        return [form]
    ok, reason = check_ascii(seen, spec)
    return [form, Score("oracle", "correct", float(ok), ok, reason,
                        {"reading": seen.describe(), "detail": seen.detail, **where})]


def render_ascii(text: str, scale: int = 2):
    """The art drawn in a monospace bitmap font, black on white, for reports and image judges: Unicode text art as
    its ASCII equivalent, anything else the font lacks as `?`."""
    from PIL import Image, ImageDraw, ImageFont

    from grounding.shapes_world.ascii import as_ascii

    text = as_ascii(text).encode("latin-1", "replace").decode("latin-1")

    font = ImageFont.load_default_imagefont()
    left, top, right, bottom = font.getbbox("M")
    cell_w, cell_h = right - left, bottom - top + 3
    lines = text.split("\n") or [""]
    width, height = max(len(line) for line in lines) or 1, len(lines)
    image = Image.new("RGB", (width * cell_w + 4, height * cell_h + 4), "white")
    pen = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        pen.text((2, 2 + row * cell_h), line, fill="black", font=font)
    return image.resize((image.width * scale, image.height * scale), Image.NEAREST)


JUDGE_IMAGE_SIZE = 64
CANVAS = (28, 14)  # characters x lines: the largest drawing by the size words' defaults (24 x 12) with a margin


def ascii_image(text: str, size: int = JUDGE_IMAGE_SIZE):
    """What the ASCII CLIP judge sees: the art without its blank edges and common indentation, centred on a fixed
    canvas (so that a small drawing stays small; larger art is cut at the canvas's edge), squared and resized to
    `size` pixels."""
    from PIL import Image

    width, height = CANVAS
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    indent = min((len(line) - len(line.lstrip()) for line in lines if line), default=0)
    lines = [line[indent:][:width] for line in lines[:height]]
    left = (width - max((len(line) for line in lines), default=0)) // 2
    top = (height - len(lines)) // 2
    body = [" " * width] * top + [(" " * left + line).ljust(width) for line in lines]
    drawn = render_ascii("\n".join(body + [" " * width] * (height - len(body))), scale=1)
    side = max(drawn.size)
    square = Image.new("RGB", (side, side), "white")
    square.paste(drawn, (0, (side - drawn.height) // 2))
    return square.resize((size, size), Image.BILINEAR)
