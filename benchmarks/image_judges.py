"""How well the image judges read flat shapes the shapes world's renderer did not draw.

Another hand draws one object per image: canvases of 48 to 256 pixels, shades of each colour (each channel
moved by up to 25), off-white backgrounds, anti-aliased edges (drawn at four times the size, then downsampled),
small objects 20-28% and large ones 40-50% of the canvas, anywhere on it. Prints the share the bundled CLIP
judge gets right (the instruction outranks its one-word contrasts) and the share the shapes oracle reads right,
and which words the CLIP judge's misses got wrong.

    python benchmarks/image_judges.py                      # README's numbers: 600 images, seed 2026
    python benchmarks/image_judges.py --seed 7 --judge DIR  # a candidate judge on other seeds, while training

Seed 2026 is the reported set: look at a candidate on other seeds, and measure the chosen judge there once.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter

from PIL import Image, ImageDraw

from grounding.judges.functional import shapes_oracle
from grounding.judges.functional.clip import load_clip_judge, score_images
from grounding.shapes_world import COLOURS, SHAPES, Spec, Thing, caption, contrasts

SUPERSAMPLE = 4


def draw(rng: random.Random) -> tuple[Image.Image, Spec]:
    colour, shape, size = rng.choice(list(COLOURS)), rng.choice(SHAPES), rng.choice(("small", "large"))
    canvas = rng.randint(48, 256)
    side = canvas * SUPERSAMPLE
    background = tuple(rng.randint(240, 255) for _ in range(3))
    fill = tuple(max(0, min(255, c + rng.randint(-25, 25))) for c in COLOURS[colour])
    extent = side * (rng.uniform(0.20, 0.28) if size == "small" else rng.uniform(0.40, 0.50))
    x, y = rng.uniform(extent / 2 + 2, side - extent / 2 - 2), rng.uniform(extent / 2 + 2, side - extent / 2 - 2)
    image = Image.new("RGB", (side, side), background)
    pen = ImageDraw.Draw(image)
    box = (x - extent / 2, y - extent / 2, x + extent / 2, y + extent / 2)
    if shape == "circle":
        pen.ellipse(box, fill=fill)
    elif shape == "square":
        pen.rectangle(box, fill=fill)
    else:
        pen.polygon([(x, box[1]), (box[2], box[3]), (box[0], box[3])], fill=fill)
    return image.resize((canvas, canvas), Image.LANCZOS), Spec((Thing(colour, shape, size),))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--judge", default=None, help="an open_clip local-dir checkpoint (default: the bundled)")
    args = parser.parse_args(argv)
    n = args.n
    rng = random.Random(args.seed)
    drawn = [draw(rng) for _ in range(n)]
    judge = load_clip_judge(args.judge)
    scored = score_images(judge, [image for image, _ in drawn], [caption(spec) for _, spec in drawn],
                          [tuple(contrasts(spec)) for _, spec in drawn])
    clip_right = sum(bool(rank.passed) for _, rank in scored)
    wrong_word = Counter(_changed_word(caption(spec), rank.metadata.get("winner", ""))
                         for (_, rank), (_, spec) in zip(scored, drawn) if not rank.passed)
    oracle_right = 0
    for image, spec in drawn:
        thing = spec.things[0]
        expect = {"things": [{"colour": thing.colour, "shape": thing.shape, "size": thing.size}]}
        oracle_right += bool(shapes_oracle.score_image(image, expect).passed)
    print("| judge | images by another hand | right |\n| --- | --- | --- |")
    print(f"| CLIP ({args.judge or 'bundled shapes-clip'}) | {n} | {clip_right / n:.3f} |")
    print(f"| shapes oracle | {n} | {oracle_right / n:.3f} |")
    print(f"\nseed {args.seed}; CLIP misses by the word the winning prompt changed: {dict(wrong_word)}")
    return 0


def _changed_word(asked: str, winner: str) -> str:
    """The instruction's word that the winning prompt replaced ("size: large -> small"), or the null prompt."""
    a, w = asked.split(), winner.split()
    if len(a) != len(w):
        return winner or "?"
    changed = [(x, y) for x, y in zip(a, w) if x != y]
    return ", ".join(f"{x} -> {y}" for x, y in changed) or "?"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
