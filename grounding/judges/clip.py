"""The `clip` judge: CLIP agreement for every image, and controls (a blank and a noise image) that guard the CLIP
judge itself. The primitive it applies is grounding.judges.functional.clip."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from PIL import Image

from grounding.inputs._images import open_artifacts
from grounding.judges._registry import JudgeContext, Judged
from grounding.judges.functional.clip import ClipJudge, score_embedded
from grounding.types import Artifact, Case, Score

CONTROL_JUDGE = "clip-control"  # its scores have kind "control"


@dataclass(frozen=True)
class ClipAgreement:
    """The `clip` judge: CLIPScore, contrastive R-precision and the margin for every image, with the run's CLIP
    weights (`--judge`); a blank and a noise image per case that must not pass (they guard the judge itself);
    and the image embeddings the distribution comparison reads."""

    name: str = "clip"
    reads: str = "image"
    version: str = "1"

    def identity(self, context: JudgeContext) -> dict:
        """The CLIP weights' content, the device and open_clip's version (the score cache)."""
        from grounding.adapters._lazy import resolved_device
        from grounding.judges.functional.clip import weights_identity
        from grounding.running._score_cache import package_version

        device = resolved_device(context.settings.device).split(":")[0]  # the device's type: cuda:1 scores as cuda:0
        return {"weights": weights_identity(context.settings.judge), "device": device,
                "open_clip": package_version("open_clip_torch"), "torch": package_version("torch")}

    def judge(self, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
        from grounding.judges.functional.clip import load_clip_judge
        from grounding.judges.functional.embeddings import embedder_for

        settings, store = context.settings, context.store
        judge = load_clip_judge(settings.judge, device=settings.device)
        images = open_artifacts(artifacts)
        scores, vectors = clip_scores(judge, images, [cases[a.case_id] for a in artifacts])
        judged: Judged = list(zip(artifacts, scores))
        store.remember_embeddings(embedder_for(self.reads, settings.judge),
                                  {a.sha256: vector for a, vector in zip(artifacts, vectors)})
        controls = [Artifact(name, 0, *store.write_artifact(data, ".png"), False)
                    for name, data in control_images(images[0].size).items()]
        guarded = judge_controls(judge, controls, list(cases.values()))
        return judged + [(artifact, [score]) for artifact, score in guarded]


def clip_scores(judge: ClipJudge, images: Sequence[Image.Image], chosen: Sequence[Case]
                ) -> tuple[list[list[Score]], list[list[float]]]:
    """CLIPScore, the rank against the contrasts and the margin per image; and the image embeddings they were read
    from, which the distribution comparison (CMMD) keeps, so that the images are embedded once."""
    clip, vectors = [], []
    for start in range(0, len(images), 256):
        part = slice(start, start + 256)
        embedded = judge.embed_images(images[part])
        clip += score_embedded(judge, embedded, [c.instruction for c in chosen[part]],
                               [c.contrasts for c in chosen[part]])
        vectors += embedded.cpu().tolist()
    return [[*scores, _margin(scores[1])] for scores in clip], vectors


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


def judge_controls(judge: ClipJudge, controls: Sequence[Artifact], cases: Sequence[Case]
                   ) -> list[tuple[Artifact, Score]]:
    """Each control image against each case: it holds when the instruction does NOT outrank the contrasts. Each
    control image is embedded once, whatever the number of cases."""
    embedded = judge.embed_images(open_artifacts(controls))
    pairs = [(case, i) for case in cases for i in range(len(controls))]
    scored = score_embedded(judge, embedded[[i for _, i in pairs]], [case.instruction for case, _ in pairs],
                            [case.contrasts for case, _ in pairs])
    out = []
    for (case, i), (_, rank) in zip(pairs, scored):
        control = controls[i]
        name = control.case_id  # the control's name: "blank" or "noise"
        out.append((Artifact(case.id, 0, control.path, control.sha256, False),
                    Score(CONTROL_JUDGE, f"{name}_loses", 1.0 - rank.value, not rank.passed,
                          f"{name} image: {rank.explanation}", kind="control")))
    return out
