"""An SVG modality for grounding, installed as its own package: a causal language model writes an SVG drawing
for each instruction, resvg renders it to PNG, and grounding's image judges judge the picture."""

from .adapter import SvgDrawing
from .svg import extract_svg, render_png

__all__ = ["SvgDrawing", "extract_svg", "render_png"]
