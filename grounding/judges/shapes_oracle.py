"""The `shapes-oracle` judge: ground truth on images of the shapes world, for cases that describe a scene. The
primitive it applies is grounding.judges.functional.shapes_oracle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from grounding.inputs._images import open_artifacts
from grounding.judges._registry import JudgeContext, Judged
from grounding.judges.functional import shapes_oracle
from grounding.types import Artifact, Case, Score


@dataclass(frozen=True)
class ShapesOracle:
    """The `shapes-oracle` judge: what the image really shows (colours, shapes, counts, sides), for cases that
    describe a scene, on models of the shapes world (or cases that ask for it); other images get no score."""

    name: str = "shapes-oracle"
    reads: str = "image"
    version: str = "1"

    def identity(self, context: JudgeContext) -> dict:
        """The model's declared world and the world's code (the score cache)."""
        from grounding.running._score_cache import package_fingerprint

        return {"world": context.world, "shapes_world": package_fingerprint("grounding.shapes_world")}

    def judge(self, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
        chosen = [cases[a.case_id] for a in artifacts]
        if not any(shapes_oracle.applies(c.expect, context.world) for c in chosen):
            return []
        scored = zip(artifacts, oracle_scores(open_artifacts(artifacts), chosen, context.world))
        return [(artifact, scores) for artifact, scores in scored if scores]


def oracle_scores(images: Sequence, chosen: Sequence[Case], world: str | None) -> list[list[Score]]:
    """The oracle's verdict and the share of asked attributes drawn, where the oracle applies; else nothing."""
    out = []
    for image, case in zip(images, chosen):
        oracle = [shapes_oracle.score_image(image, case.expect)] if shapes_oracle.applies(case.expect, world) else []
        out.append([*oracle, *map(shapes_oracle.agreement_score, oracle)])
    return out
