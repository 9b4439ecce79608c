"""Train the example's SVG model: a tiny GPT-2 that writes an SVG drawing of a shapes-world caption.

    python examples/grounding-svg/train.py --out examples/grounding-svg/shapes-svg-lm --seed 0

Its training pairs come from the shapes world (fixtures/shapes_world): a caption, and the scene a faithful image
holds written as SVG elements (circle, rect, polygon in the world's colours) on a 32x32 canvas. It learns the
drawing, not the renderer: resvg turns its text into pixels at judging time.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import torch
from transformers import GPT2Config, GPT2LMHeadModel

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "fixtures"), str(Path(__file__).resolve().parent)]
from grounding.selftrain import encode  # noqa: E402
from grounding_svg.adapter import prompt_text  # noqa: E402
from grounding.shapes_world.grammar import caption, random_spec  # noqa: E402
from grounding.shapes_world.world import COLOURS, IMAGE_SIZE, place  # noqa: E402
from train_language_model import build_tokenizer, train  # noqa: E402


def svg_of(objects) -> str:
    """A scene as SVG: the white canvas, then each object in the world's colour, rounded to whole pixels."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{IMAGE_SIZE}" height="{IMAGE_SIZE}">',
             f'<rect width="{IMAGE_SIZE}" height="{IMAGE_SIZE}" fill="#ffffff"/>']
    for o in objects:
        fill, r, x, y = "#%02x%02x%02x" % COLOURS[o.colour], o.diameter // 2, round(o.x), round(o.y)
        if o.shape == "circle":
            parts.append(f'<circle cx="{x}" cy="{y}" r="{r}" fill="{fill}"/>')
        elif o.shape == "square":
            parts.append(f'<rect x="{x - r}" y="{y - r}" width="{2 * r}" height="{2 * r}" fill="{fill}"/>')
        else:
            parts.append(f'<polygon points="{x},{y - r} {x - r},{y + r} {x + r},{y + r}" fill="{fill}"/>')
    return "".join(parts) + "</svg>"


def pairs(rng: random.Random, count: int) -> list[tuple[str, str]]:
    out = []
    for _ in range(count):
        spec = random_spec(rng)
        out.append((prompt_text(caption(spec)).rstrip("\n"), svg_of(place(spec, rng))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "shapes-svg-lm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--vocab", type=int, default=400)
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--layers", type=int, default=3)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    data_pairs = pairs(rng, args.examples)
    tokenizer = build_tokenizer([u + "\n" + a for u, a in data_pairs], args.vocab)
    tokenizer.chat_template = None  # asked as plain text: prompt_text(instruction)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=192, n_embd=args.width, n_layer=args.layers, n_head=4,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.pad_token_id)
    model = GPT2LMHeadModel(config)
    data = encode(tokenizer, data_pairs, config.n_positions)
    print(f"{len(data)} examples, longest {max(len(ids) for ids, _ in data)} tokens, "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters", flush=True)
    train(model, data, tokenizer, args.steps, args.batch, args.lr, "cpu", args.seed)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    (args.out / "grounding.toml").write_text(
        '# The example SVG model draws the shapes world, so the shapes oracle judges its pictures too.\n'
        'world = "shapes"\n\n[modalities.svg]\npath = "."\n')
    print(f"saved {args.out}", flush=True)


if __name__ == "__main__":
    main()
