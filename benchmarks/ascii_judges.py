"""How well the ASCII judges read art they were not made from: the oracle's verdict and the ASCII CLIP judge.

Two held-out sets, neither drawn by the shapes world's renderer:

- `by hand`: benchmarks/data/ascii_by_hand.toml, 30 chat-style answers written by hand (fences, prose before
  and after, `+--+` and `|` borders, `/\\` and `_` outlines, right-angled and upside-down triangles, dotted
  circles). Never used to tune the oracle.
- `another hand`: drawings generated below by code that shares nothing with the renderer (its own geometry,
  4 to 12 rows, aspect ratios, ink characters, outline characters, indentation, and chat wrappings), in two
  splits: seeds 0-299 were used while building the oracle (`dev`), seeds 1000-1599 were not (`held out`).

For each drawing the oracle's verdict must accept a case asking for its shape and style (accept rate) and
refuse every case asking for another shape (refusal rate; a case asking "rectangle" accepts a square). Sizes
are checked on the accepted drawings whose size is clear (small: at most 5 rows and 10 columns; large: at
least 9 rows), with the default thresholds (small up to 6 rows of visual extent, large from 7). The ASCII
CLIP judge is measured on the drawings of the world's own shapes: does its label outrank the one-word
contrasts? Its accuracy decides whether it gates (grounding/judges/ascii_art.py reads the committed number).

    python benchmarks/ascii_judges.py            # prints the table README shows
    python benchmarks/ascii_judges.py --write    # also records the CLIP judge's held-out accuracy
"""

from __future__ import annotations

import json
import random
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from grounding.shapes_world.ascii import READ_SHAPES, AsciiSpec, check_ascii, read_ascii

HERE = Path(__file__).parent
INKS = "#*@XO%=+$&"
DEV, HELD_OUT = range(0, 300), range(1000, 1600)


@dataclass(frozen=True)
class Drawing:
    answer: str
    shape: str
    style: str
    rows: int  # the drawing's height in rows
    columns: int

    @property
    def clear_size(self) -> str | None:
        """small when at most 5 rows and 10 columns, large when at least 9 rows; else no clear size word."""
        return "small" if self.rows <= 5 and self.columns <= 10 else "large" if self.rows >= 9 else None


def _ellipse_rows(h: int, w: int) -> list[tuple[int, int]]:
    """(left, right) of each row of an ellipse h rows by w columns, by this hand's own rounding."""
    out = []
    for r in range(h):
        y = (2 * r + 1 - h) / h
        half = (w / 2) * max(0.0, 1 - y * y) ** 0.5
        left = round(w / 2 - half)
        out.append((left, max(left, w - 1 - left)))
    return out


def _outline_rows(spans: list[tuple[int, int]], ink: str, w: int) -> list[str]:
    rows = []
    for r, (a, b) in enumerate(spans):
        row = [" "] * w
        if r in (0, len(spans) - 1):
            row[a:b + 1] = ink * (b - a + 1)
        else:
            row[a], row[b] = ink, ink
            nxt, prv = spans[r + 1], spans[r - 1]  # close the gaps where the side moves by more than a column
            for c in range(min(a, nxt[0], prv[0]) + 1, a):
                row[c] = ink
            for c in range(b + 1, max(b, nxt[1], prv[1])):
                row[c] = ink
        rows.append("".join(row).rstrip())
    return rows


def _filled_rows(spans: list[tuple[int, int]], ink: str) -> list[str]:
    return [" " * a + ink * (b - a + 1) for a, b in spans]


def _draw(shape: str, style: str, h: int, rng: random.Random) -> list[str]:
    ink = rng.choice(INKS)
    if shape in ("square", "rectangle"):
        w = rng.choice([h, 2 * h - 1, 2 * h, round(1.5 * h)]) if shape == "square" else rng.randint(3 * h, 5 * h)
        if style == "filled":
            return [ink * w] * h
        if rng.random() < 0.5:
            return ["+" + "-" * (w - 2) + "+"] + ["|" + " " * (w - 2) + "|"] * (h - 2) + ["+" + "-" * (w - 2) + "+"]
        return [ink * w] + [ink + " " * (w - 2) + ink] * (h - 2) + [ink * w]
    if shape == "circle":
        w = rng.choice([2 * h, 2 * h + 1, round(1.8 * h), 2 * h + 2])
        spans = _ellipse_rows(h, w)
        return _filled_rows(spans, ink) if style == "filled" else _outline_rows(spans, ink, w)
    if shape == "diamond":
        half = h // 2
        h = 2 * half + 1
        spans = [(half - min(r, h - 1 - r), half + min(r, h - 1 - r)) for r in range(h)]
        spans = [(2 * a, 2 * b) for a, b in spans] if rng.random() < 0.5 else spans  # wide or narrow
        w = max(b for _, b in spans) + 1
        if style == "outlined" and rng.random() < 0.5:
            return [(" " * a + ("/" if r < half else "\\" if r > half else "<") + " " * (b - a - 1)
                     + ("\\" if r < half else "/" if r > half else ">")) if b > a else " " * a + ink
                    for r, (a, b) in enumerate(spans)]
        return _filled_rows(spans, ink) if style == "filled" else _outline_rows(spans, ink, w)
    kind = rng.choice(["isosceles", "isosceles", "right", "down"])  # triangles
    if kind == "right":
        spans = [(0, round(r * (2 * h - 2) / (h - 1))) for r in range(h)]
        if style == "outlined" and rng.random() < 0.5:
            return ["|" + " " * (b - 1) + "\\" if b > 0 else "|" for _, b in spans[:-1]] + \
                   ["|" + "_" * (spans[-1][1] - 1) + "\\"]
    else:
        spans = [(h - 1 - r, h - 1 + r) for r in range(h)]
        if kind == "down":
            spans = spans[::-1]
        elif style == "outlined" and rng.random() < 0.5:
            return [" " * a + "/" + (" " if r < h - 1 else "_") * (b - a - 1) + "\\" if b > a else " " * a + "^"
                    for r, (a, b) in enumerate(spans)]
    w = max(b for _, b in spans) + 1
    return _filled_rows(spans, ink) if style == "filled" else _outline_rows(spans, ink, w)


def _wrap(lines: list[str], shape: str, rng: random.Random) -> str:
    indent = " " * rng.choice([0, 0, 2, 4, 6])
    art = "\n".join(indent + line if line else line for line in lines)
    how = rng.choice(["bare", "fence", "fence-text", "prose-fence", "prose-bare", "prose-fence-prose"])
    before = rng.choice([f"Sure! Here's a {shape}:", f"Here is the {shape} you asked for.",
                         "Of course, here it is:"])
    after = rng.choice(["Let me know if you want another size.", "Hope this helps!",
                        f"This {shape} is drawn with ASCII characters."])
    fence = "```text" if how == "fence-text" else "```"
    return {"bare": art, "fence": f"```\n{art}\n```", "fence-text": f"{fence}\n{art}\n```",
            "prose-fence": f"{before}\n\n```\n{art}\n```", "prose-bare": f"{before}\n\n{art}\n",
            "prose-fence-prose": f"{before}\n```\n{art}\n```\n{after}"}[how]


def another_hand(seeds: range) -> list[Drawing]:
    out = []
    for seed in seeds:
        rng = random.Random(seed)
        shape, style = rng.choice(READ_SHAPES), rng.choice(("filled", "outlined"))
        rows = rng.randint(4, 12)
        lines = _draw(shape, style, rows, rng)
        out.append(Drawing(_wrap(lines, shape, rng), shape, style, len(lines), max(map(len, lines))))
    return out


def not_a_known_shape(seeds: range) -> list[str]:
    """Art that is none of the shapes: letters L, T, H and X, a plus, an hourglass, a zigzag, random ink."""
    out = []
    for seed in seeds:
        rng = random.Random(seed)
        h, ink = rng.randint(4, 12), rng.choice(INKS)
        w = rng.randint(h, 2 * h)
        kind = rng.choice(["L", "T", "H", "X", "plus", "hourglass", "zigzag", "random"])
        grid = [[False] * w for _ in range(h)]
        for r in range(h):
            for c in range(w):
                grid[r][c] = {"L": c < 2 or r == h - 1, "T": r == 0 or abs(c - w // 2) <= 1,
                              "H": c < 2 or c >= w - 2 or r == h // 2,
                              "X": abs(c * h - r * w) < w or abs((w - 1 - c) * h - r * w) < w,
                              "plus": abs(c - w // 2) <= 1 or r == h // 2,
                              "hourglass": abs(c - w / 2) >= abs(r - h / 2) * w / h - 0.5,
                              "zigzag": (c + (r % 4 if r % 8 < 4 else 4 - r % 4)) % 6 == 0,
                              "random": rng.random() < 0.45}[kind]
        out.append(_wrap(["".join(ink if cell else " " for cell in row).rstrip() for row in grid], "shape", rng))
    return out


def by_hand() -> list[Drawing]:
    data = tomllib.loads((HERE / "data" / "ascii_by_hand.toml").read_text())
    out = []
    for item in data["drawing"]:
        seen = read_ascii(item["answer"])
        out.append(Drawing(item["answer"], item["shape"], item["style"], seen.height, seen.width))
    return out


def oracle_rates(drawings: list[Drawing]) -> dict[str, float | int]:
    accepted = refused = wrong = sized = sized_right = 0
    misses = []
    for d in drawings:
        seen = read_ascii(d.answer)
        ok = check_ascii(seen, AsciiSpec(d.shape, None, d.style))[0]
        accepted += ok
        if not ok:
            misses.append(f"{d.shape}/{d.style}: {seen.describe()}")
        for other in READ_SHAPES:
            if other == d.shape or (other == "rectangle" and d.shape == "square"):
                continue
            wrong += 1
            refused += not check_ascii(seen, AsciiSpec(other, None, d.style))[0]
        if d.clear_size and ok:
            sized += 1
            sized_right += check_ascii(seen, AsciiSpec(d.shape, d.clear_size, d.style))[0]
    return {"n": len(drawings), "accept": accepted / len(drawings), "refuse": refused / max(wrong, 1),
            "size": sized_right / max(sized, 1), "misses": misses}


def clip_accuracy(drawings: list[Drawing]) -> tuple[float, int]:
    """Share of world-shape drawings whose CLIP label outranks its one-word contrasts."""
    from grounding.judges.functional.ascii_art import ascii_art_of
    from grounding.judges.ascii_art import clip_on_renderings

    chosen = [d for d in drawings if d.shape in ("circle", "square", "triangle")]
    specs = [AsciiSpec(d.shape, d.clear_size, d.style) for d in chosen]
    scored = clip_on_renderings([ascii_art_of(d.answer) for d in chosen], specs)
    right = sum(scored[i][1].value == 1.0 for i in range(len(chosen)))  # the label won (gating or not)
    return right / max(len(chosen), 1), len(chosen)


def main(argv: list[str]) -> int:
    sets = {"by hand": by_hand(), "another hand, dev (seeds 0-299)": another_hand(DEV),
            "another hand, held out (seeds 1000-1599)": another_hand(HELD_OUT)}
    print("| set | drawings | oracle accepts correct | refuses wrong shape | size right | CLIP label wins |")
    print("| --- | --- | --- | --- | --- | --- |")
    clip = {}
    for name, drawings in sets.items():
        rates = oracle_rates(drawings)
        clip[name] = clip_accuracy(drawings)
        print(f"| {name} | {rates['n']} | {rates['accept']:.3f} | {rates['refuse']:.3f} | {rates['size']:.3f} | "
              f"{clip[name][0]:.3f} (n={clip[name][1]}) |")
    others = not_a_known_shape(HELD_OUT)  # seeds 0-299 of this generator were used to build the checks
    honest = [not any(check_ascii(read_ascii(text), AsciiSpec(shape))[0] for shape in READ_SHAPES) for text in others]
    print(f"\nnone of the shapes (L, T, H, X, plus, hourglass, zigzag, random ink; {len(others)} drawings): "
          f"refused for every shape {sum(honest) / len(honest):.3f}")
    for name, drawings in sets.items():
        misses = oracle_rates(drawings)["misses"]
        if misses:
            print(f"\n{name}: {len(misses)} not accepted, e.g.\n  " + "\n  ".join(misses[:8]))
    if "--write" in argv:
        held = clip["another hand, held out (seeds 1000-1599)"]
        hand = clip["by hand"]
        record = {"held_out_accuracy": round(min(held[0], hand[0]), 4),
                  "sets": {"another hand, held out": {"accuracy": round(held[0], 4), "n": held[1]},
                           "by hand": {"accuracy": round(hand[0], 4), "n": hand[1]}},
                  "measured_by": "benchmarks/ascii_judges.py --write"}
        from grounding.judges.functional.clip import ASCII_JUDGE

        (Path(ASCII_JUDGE) / "held_out.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"\nwrote {Path(ASCII_JUDGE) / 'held_out.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
