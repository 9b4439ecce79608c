"""The shapes oracle judges only where its world is: a model that declares it, or a case that asks for it."""

import random

from grounding.inputs import open_artifacts
from grounding.judges.clip import clip_scores
from grounding.judges.functional import shapes_oracle
from grounding.judges.functional.clip import load_clip_judge
from grounding.judges.shapes_oracle import oracle_scores
from grounding.types import Artifact, Case
from grounding.shapes_world import Spec, Thing, render

SCENE = {"things": [{"colour": "red", "shape": "circle"}]}


def test_the_oracle_applies_to_the_shapes_world_or_where_a_case_asks():
    assert shapes_oracle.applies(SCENE, "shapes")
    assert not shapes_oracle.applies(SCENE, None)  # a user's own pipeline is never failed by it
    assert shapes_oracle.applies({**SCENE, "world": "shapes"}, None)
    assert not shapes_oracle.applies({}, "shapes")


def test_a_photo_model_is_judged_by_clip_alone(tmp_path):
    path = tmp_path / "out.png"
    render(Spec((Thing("blue", "square", "large"),)), random.Random(0)).save(path)  # not what the case asks
    artifacts = [Artifact("c", 0, path, "0" * 64, False)]
    cases = {"c": Case("c", "text-to-image", "a red circle", ("a blue square",), expect=SCENE)}
    judge = load_clip_judge(None)
    image, chosen = open_artifacts(artifacts), list(cases.values())
    clip = clip_scores(judge, image, chosen)[0][0]
    with_world = clip + oracle_scores(image, chosen, "shapes")[0]
    without = clip + oracle_scores(image, chosen, None)[0]
    assert [s.metric for s in with_world if s.judge == "oracle"] == ["correct", "agreement"]
    assert next(s for s in with_world if s.judge == "oracle").passed is False
    assert next(s for s in with_world if s.metric == "agreement").value == 0.0  # neither colour nor shape
    assert "oracle" not in {s.judge for s in without} and {s.judge for s in without} == {"clip"}
