"""The shapes-world oracle on pixels, as Scores: ground truth for cases whose `expect` describes a scene."""

from __future__ import annotations

from typing import Any, Mapping

from grounding.types import Score


def applies(expect: Mapping[str, Any], world: str | None = "shapes") -> bool:
    """Whether the oracle judges a case: it describes a scene, and the model draws the shapes world (its
    checkpoint says so) or the case asks for the oracle itself."""
    return bool(expect.get("things")) and "shapes" in (world, expect.get("world"))


def score_image(image, expect: Mapping[str, Any]) -> Score:
    """Read the image and compare what it holds with what the case expects."""
    from grounding import shapes_world

    spec = shapes_world.spec_from_dict(expect)
    seen = shapes_world.read(image)
    ok, reason = shapes_world.check(seen, spec)
    return Score("oracle", "correct", float(ok), ok, reason,
                 {"reading": shapes_world.describe(seen), "agreement": shapes_world.agreement(seen, spec)})


def agreement_score(correct: Score) -> Score:
    """The oracle's per-object agreement as a score of its own (a paired continuous reading beside the verdict)."""
    value = correct.metadata["agreement"]
    return Score("oracle", "agreement", value, None, f"share of the asked attributes drawn: {value:.2f}")
