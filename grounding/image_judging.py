"""Judging images: CLIP agreement for every case, the shapes-world oracle where a case describes a scene,
and controls (a blank and a noise image) that guard the CLIP judge itself."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from PIL import Image

from .images import open_image
from .judges import shapes_oracle
from .judges.clip import ClipJudge, score_images
from .judging import JudgeContext, Judged
from .types import Artifact, Case, Score

CONTROL_JUDGE = "clip-control"  # its scores have kind "control"


def judge_images(judge: ClipJudge, artifacts: Sequence[Artifact], cases: dict[str, Case],
                 world: str | None = None) -> list[list[Score]]:
    """All scores for each artifact, in order: CLIP for every case, the shapes oracle for a case with a scene
    when the model's `world` is the shapes world or the case itself asks for it (`world = "shapes"`)."""
    images, chosen = _opened(artifacts), [cases[a.case_id] for a in artifacts]
    return [[*c, *o] for c, o in zip(_clip_scores(judge, images, chosen), _oracle_scores(images, chosen, world))]


@dataclass(frozen=True)
class ClipAgreement:
    """The `clip` judge: CLIPScore, contrastive R-precision and the margin for every image, with the run's CLIP
    weights (`--judge`); a blank and a noise image per case that must not pass (they guard the judge itself);
    and the image embeddings the distribution comparison reads."""

    name: str = "clip"
    reads: str = "image"
    version: str = "1"

    def identity(self, context: JudgeContext) -> dict:
        """The CLIP weights' content, the device and open_clip's version (score_cache)."""
        from .judges.clip import weights_identity
        from .lazy_adapter import resolved_device
        from .score_cache import package_version

        device = resolved_device(context.settings.device).split(":")[0]  # the device's type: cuda:1 scores as cuda:0
        return {"weights": weights_identity(context.settings.judge), "device": device,
                "open_clip": package_version("open_clip_torch"), "torch": package_version("torch")}

    def judge(self, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
        from .embeddings import embedder_for, image_embeddings
        from .judges.clip import load_clip_judge

        settings, store = context.settings, context.store
        judge = load_clip_judge(settings.judge, device=settings.device)
        images = _opened(artifacts)
        judged: Judged = list(zip(artifacts, _clip_scores(judge, images, [cases[a.case_id] for a in artifacts])))
        store.remember_embeddings(embedder_for(self.reads, settings.judge), image_embeddings(judge, artifacts))
        controls = [Artifact(name, 0, *store.write_artifact(data, ".png"), False)
                    for name, data in control_images(images[0].size).items()]
        return judged + [(artifact, [score]) for artifact, score in judge_controls(judge, controls, list(cases.values()))]


@dataclass(frozen=True)
class ShapesOracle:
    """The `shapes-oracle` judge: what the image really shows (colours, shapes, counts, sides), for cases that
    describe a scene, on models of the shapes world (or cases that ask for it); other images get no score."""

    name: str = "shapes-oracle"
    reads: str = "image"
    version: str = "1"

    def identity(self, context: JudgeContext) -> dict:
        """The model's declared world and the world's code (score_cache)."""
        from .score_cache import package_fingerprint

        return {"world": context.world, "shapes_world": package_fingerprint("grounding.shapes_world")}

    def judge(self, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
        chosen = [cases[a.case_id] for a in artifacts]
        if not any(shapes_oracle.applies(c.expect, context.world) for c in chosen):
            return []
        scored = zip(artifacts, _oracle_scores(_opened(artifacts), chosen, context.world))
        return [(artifact, scores) for artifact, scores in scored if scores]


def _opened(artifacts: Sequence[Artifact]) -> list[Image.Image]:
    return [open_image(a.path, f"the output for case {a.case_id}, seed {a.seed} ({a.path})") for a in artifacts]


def _clip_scores(judge: ClipJudge, images: Sequence[Image.Image], chosen: Sequence[Case]) -> list[list[Score]]:
    """CLIPScore, the rank against the contrasts, and the margin, per image."""
    clip = []
    for start in range(0, len(images), 256):
        part = slice(start, start + 256)
        clip += score_images(judge, images[part], [c.instruction for c in chosen[part]],
                             [c.contrasts for c in chosen[part]])
    return [[*scores, _margin(scores[1])] for scores in clip]


def _oracle_scores(images: Sequence[Image.Image], chosen: Sequence[Case], world: str | None) -> list[list[Score]]:
    """The oracle's verdict and the share of asked attributes drawn, where the oracle applies; else nothing."""
    out = []
    for image, case in zip(images, chosen):
        oracle = [shapes_oracle.score_image(image, case.expect)] if shapes_oracle.applies(case.expect, world) else []
        out.append([*oracle, *map(shapes_oracle.agreement_score, oracle)])
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
                          f"{name} image: {rank.explanation}", kind="control")))
    return out
