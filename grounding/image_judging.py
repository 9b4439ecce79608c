"""Judging images: CLIP agreement for every case, the shapes-world oracle where a case describes a scene,
and controls (a blank and a noise image) that guard the CLIP judge itself."""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from PIL import Image

from .images import open_image
from .judges import shapes_oracle
from .judges.clip import ClipJudge, score_images
from .types import Artifact, Case, Score

CONTROL_JUDGE = "clip-control"


def judge_images(judge: ClipJudge, artifacts: Sequence[Artifact], cases: dict[str, Case],
                 world: str | None = None) -> list[list[Score]]:
    """All scores for each artifact, in order: CLIP for every case, the shapes oracle for a case with a scene
    when the model's `world` is the shapes world or the case itself asks for it (`world = "shapes"`)."""
    images = [open_image(a.path, f"the output for case {a.case_id}, seed {a.seed} ({a.path})") for a in artifacts]
    chosen = [cases[a.case_id] for a in artifacts]
    clip = []
    for start in range(0, len(images), 256):
        part = slice(start, start + 256)
        clip += score_images(judge, images[part], [c.instruction for c in chosen[part]],
                             [c.contrasts for c in chosen[part]])
    out = []
    for image, case, scores in zip(images, chosen, clip):
        oracle = [shapes_oracle.score_image(image, case.expect)] if shapes_oracle.applies(case.expect, world) else []
        out.append([*scores, _margin(scores[1]), *oracle, *map(shapes_oracle.agreement_score, oracle)])
    return out


def _margin(rank: Score) -> Score:
    """The paired continuous reading behind the rank: how far the instruction's cosine lies above the best
    contrast's (negative when a contrast won). It moves before a verdict flips."""
    margin = rank.metadata["margin"]
    return Score("clip", "margin", margin, None, f"instruction cos minus the best contrast's: {margin:+.3f}")


def control_images(size: tuple[int, int], seed: int = 0) -> dict[str, bytes]:
    """A blank (white) image and a uniform-noise image, PNG-encoded."""
    noise = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    encoded = {}
    for name, image in (("blank", Image.new("RGB", size, (255, 255, 255))), ("noise", Image.fromarray(noise))):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        encoded[name] = buffer.getvalue()
    return encoded


def judge_controls(judge: ClipJudge, controls: Sequence[Artifact], cases: Sequence[Case]) -> list[tuple[Artifact, Score]]:
    """Each control image against each case: it holds when the instruction does NOT outrank the contrasts."""
    images = [Image.open(c.path).convert("RGB") for c in controls]
    pairs = [(case, control, image) for case in cases for control, image in zip(controls, images)]
    scored = score_images(judge, [p[2] for p in pairs], [p[0].instruction for p in pairs],
                          [p[0].contrasts for p in pairs])
    out = []
    for (case, control, _), (_, rank) in zip(pairs, scored):
        name = control.case_id  # the control's name: "blank" or "noise"
        out.append((Artifact(case.id, 0, control.path, control.sha256, False),
                    Score(CONTROL_JUDGE, f"{name}_loses", 1.0 - rank.value, not rank.passed,
                          f"{name} image: {rank.explanation}")))
    return out
