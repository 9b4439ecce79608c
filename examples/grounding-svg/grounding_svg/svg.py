"""From a model's text to a picture: the first <svg>...</svg> in it, rendered by resvg."""

from __future__ import annotations

import io
import re

from PIL import Image

SVG = re.compile(r"<svg\b.*?</svg>", flags=re.DOTALL | re.IGNORECASE)
EXTERNAL = re.compile(r"<(image|use|foreignObject|script)\b", flags=re.IGNORECASE)


def extract_svg(text: str) -> str | None:
    """The first complete <svg> element in a model's answer (prose or a Markdown fence around it is ignored);
    None when there is none, or when it reaches outside itself (images, references, scripts)."""
    found = SVG.search(text)
    if found is None or EXTERNAL.search(found.group(0)):
        return None
    return found.group(0)


def render_png(text: str, size: int) -> bytes:
    """The drawing as a size x size RGB PNG on white; an answer with no drawable SVG is a blank picture, which
    every judge fails (the model did not draw what it was asked)."""
    import resvg_py

    svg = extract_svg(text)
    image = Image.new("RGB", (size, size), (255, 255, 255))
    if svg is not None:
        try:
            png = resvg_py.svg_to_bytes(svg_string=svg, width=size, height=size, skip_system_fonts=True)
            drawn = Image.open(io.BytesIO(bytes(png))).convert("RGBA").resize((size, size))
            image.paste(drawn, (0, 0), drawn)
        except (ValueError, OSError):
            pass  # resvg refused it: not SVG after all
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
