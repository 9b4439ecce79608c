"""The bundled CLIP judge: it discriminates the shapes world, loads through open_clip's factory, and its
preprocessing is what it was trained with."""

import json
import random

import numpy as np
import pytest
import torch
from PIL import Image

from grounding.errors import GroundingUsageError
from grounding.judges.functional.clip import BUNDLED_JUDGE, ClipJudge, load_clip_judge, parse_spec, score_images
from grounding.shapes_world import COLOURS, SHAPES, Spec, Thing, caption, contrasts, random_spec, render

LABELS = [Thing(c, s) for c in COLOURS for s in SHAPES]


@pytest.fixture(scope="module")
def judge():
    return load_clip_judge(None, device="cpu")


def _zero_shot_accuracy(judge, images, truth, transform=None):
    texts = judge.embed_texts([caption(Spec((t,))) for t in LABELS])
    if transform is None:
        embedded = judge.embed_images(images)
    else:
        with torch.no_grad():
            batch = torch.stack([transform(i) for i in images])
            embedded = torch.nn.functional.normalize(judge.model.encode_image(batch), dim=-1)
    return float(((embedded @ texts.T).argmax(1) == torch.tensor(truth)).float().mean())


def _fresh_single_objects(n, seed):
    rng = random.Random(seed)
    truth = [rng.randrange(len(LABELS)) for _ in range(n)]
    return [render(Spec((LABELS[i],)), rng) for i in truth], truth


def test_zero_shot_colour_shape_accuracy_at_least_95_percent(judge):
    images, truth = _fresh_single_objects(400, seed=2024)
    assert _zero_shot_accuracy(judge, images, truth) >= 0.95


def _pixels(image):
    return torch.from_numpy(np.array(image)).permute(2, 0, 1).float()


def test_preprocessing_is_0_1_then_normalised_and_channel_mixups_are_caught(judge):
    image = render(Spec((Thing("red", "circle"),)), random.Random(0))
    assert torch.allclose(judge.preprocess(image), (_pixels(image) / 255.0 - 0.5) / 0.5, atol=1e-5)
    images, truth = _fresh_single_objects(200, seed=7)
    good = _zero_shot_accuracy(judge, images, truth)
    # The judge was trained on pictures of many brightnesses (shapes_world.varied), so a range mixup (raw 0-255
    # pixels, or 0-1 without mean/std) costs it little; the exact check above catches those. Swapped colour
    # channels (BGR) it cannot read past.
    for mixup in (_pixels, lambda i: _pixels(i) / 255.0):
        assert good - _zero_shot_accuracy(judge, images, truth, transform=mixup) < 0.1
    bgr = lambda i: (_pixels(i).flip(0) / 255.0 - 0.5) / 0.5  # noqa: E731
    assert good - _zero_shot_accuracy(judge, images, truth, transform=bgr) > 0.3


def test_contrastive_r_precision_on_fresh_scenes(judge):
    rng = random.Random(99)
    specs = [random_spec(rng) for _ in range(300)]
    scored = score_images(judge, [render(s, rng) for s in specs], [caption(s) for s in specs],
                          [contrasts(s) for s in specs])
    assert np.mean([rank.passed for _, rank in scored]) >= 0.9
    assert all(0.0 <= clip.value <= 2.5 for clip, _ in scored)


def test_blank_and_noise_images_do_not_pass_single_object_cases(judge):
    from grounding.judges.clip import control_images
    from PIL import Image
    import io

    controls = [Image.open(io.BytesIO(b)) for b in control_images((32, 32)).values()]
    specs = [Spec((t,)) for t in LABELS]
    for control in controls:
        scored = score_images(judge, [control] * len(specs), [caption(s) for s in specs], [contrasts(s) for s in specs])
        assert not any(rank.passed for _, rank in scored)


def test_the_same_factory_loads_arch_and_weights_file(tmp_path):
    import open_clip

    config = json.loads((BUNDLED_JUDGE / "open_clip_config.json").read_text())
    (tmp_path / "shapes-clip-test.json").write_text(json.dumps(config["model_cfg"]))
    open_clip.add_model_config(tmp_path / "shapes-clip-test.json")
    weights = BUNDLED_JUDGE / "open_clip_model.safetensors"
    assert parse_spec(f"shapes-clip-test:{weights}") == ("shapes-clip-test", str(weights))
    judge = load_clip_judge(f"shapes-clip-test:{weights}", device="cpu")
    images, truth = _fresh_single_objects(100, seed=3)
    assert _zero_shot_accuracy(judge, images, truth) >= 0.9


def test_spec_forms_and_errors(tmp_path):
    assert parse_spec(None)[0] == f"local-dir:{BUNDLED_JUDGE}"
    assert parse_spec(str(BUNDLED_JUDGE)) == (f"local-dir:{BUNDLED_JUDGE}", None)
    assert parse_spec("ViT-B-32:openai") == ("ViT-B-32", "openai")
    with pytest.raises(GroundingUsageError, match="no open_clip_config.json"):
        parse_spec(str(tmp_path))
    with pytest.raises(GroundingUsageError, match="ARCH:PRETRAINED"):
        parse_spec("nonsense")


def test_a_known_tag_missing_from_the_local_cache_fails_clearly_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(GroundingUsageError, match="could not load it.*local cache"):
        load_clip_judge("RN50:openai", device="cpu")


def test_the_ascii_judge_reads_rendered_ascii_art():
    """The bundled ASCII CLIP judge on fresh drawings of every ASCII label: zero-shot and against hard negatives."""
    from grounding.judges.functional.ascii_art import ascii_image
    from grounding.judges.functional.clip import ASCII_JUDGE
    from grounding.shapes_world.ascii import ALL_ASCII_SPECS, ascii_caption, ascii_contrasts, draw_ascii

    judge = load_clip_judge(str(ASCII_JUDGE), device="cpu")
    rng = random.Random(123)
    specs = [spec for spec in ALL_ASCII_SPECS for _ in range(3)]
    images = [ascii_image(draw_ascii(spec, rng)) for spec in specs]
    labels = [ascii_caption(s) for s in ALL_ASCII_SPECS]
    guesses = (judge.embed_images(images) @ judge.embed_texts(labels).T).argmax(1).tolist()
    assert np.mean([labels[g] == ascii_caption(s) for g, s in zip(guesses, specs)]) >= 0.95
    ranked = score_images(judge, images, [ascii_caption(s) for s in specs], [ascii_contrasts(s) for s in specs])
    assert np.mean([rank.passed for _, rank in ranked]) >= 0.95
    blank = ascii_image("")
    [(_, rank)] = score_images(judge, [blank], ["a small outlined square"], [[]])
    assert not rank.passed and rank.metadata["winner"] == "an empty image"


def test_the_ascii_judge_sees_the_art_not_its_indentation_or_blank_edges():
    from grounding.judges.functional.ascii_art import CANVAS, ascii_image

    art = "+----+\n|    |\n|    |\n+----+"
    indented = "\n\n" + "\n".join("        " + line for line in art.split("\n")) + "\n\n   \n"
    same = np.asarray(ascii_image(art))
    assert np.array_equal(same, np.asarray(ascii_image(indented)))
    wide = "#" * (CANVAS[0] + 10) + "\n" + "#" * (CANVAS[0] + 10)  # cut at the canvas's edge, not refused
    assert np.asarray(ascii_image(wide)).min() < 128


def test_the_ascii_judge_reads_drawings_by_a_second_hand():
    """The judge's training drew three fifths of its pictures by `shapes_world.ascii_varied`; on fresh drawings of
    that hand its label must still win most of the time (README reports it on a third hand's drawings)."""
    from grounding.judges.functional.ascii_art import ascii_image
    from grounding.judges.functional.clip import ASCII_JUDGE
    from grounding.shapes_world.ascii import ascii_caption, ascii_contrasts, check_ascii, read_ascii
    from grounding.shapes_world.ascii_varied import draw_varied, random_varied_spec

    rng = random.Random(4242)
    drawn = []
    while len(drawn) < 60:
        spec = random_varied_spec(rng)
        art = draw_varied(spec, rng)
        if check_ascii(read_ascii(art), spec)[0]:
            drawn.append((spec, art))
    judge = load_clip_judge(str(ASCII_JUDGE), device="cpu")
    ranked = score_images(judge, [ascii_image(art) for _, art in drawn], [ascii_caption(s) for s, _ in drawn],
                          [ascii_contrasts(s) for s, _ in drawn])
    assert np.mean([rank.passed for _, rank in ranked]) >= 0.8


def test_the_clip_judge_embeds_each_image_once_and_keeps_those_embeddings_for_the_distribution(tmp_path, judge,
                                                                                              monkeypatch):
    """The `clip` plugin scores from one embedding pass and stores the same vectors for CMMD: they equal a fresh
    embedding of each image, and the scores equal score_images' on the images."""
    from grounding.judges import JudgeContext
    from grounding.judges.clip import ClipAgreement
    from grounding.judges.functional.embeddings import embedder_for
    from grounding.results.store import Store
    from grounding.settings import from_values
    from grounding.types import Artifact, Case

    rng, store = random.Random(3), Store(tmp_path / "store")
    specs = [random_spec(rng) for _ in range(5)]
    images = [render(spec, rng) for spec in specs]
    artifacts, cases = [], {}
    for i, (spec, image) in enumerate(zip(specs, images)):
        path = tmp_path / f"{i}.png"
        image.save(path)
        artifacts.append(Artifact(f"c{i}", 0, path, f"{i:064x}", False))
        cases[f"c{i}"] = Case(f"c{i}", "text-to-image", caption(spec), tuple(contrasts(spec)))
    context = JudgeContext(adapter=None, settings=from_values({"device": "cpu"}), store=store, model_hash="m",
                           world=None)
    embedded = []
    original = ClipJudge.embed_images
    monkeypatch.setattr(ClipJudge, "embed_images", lambda self, images: embedded.append(len(images)) or
                        original(self, images))
    judged = ClipAgreement().judge(artifacts, cases, context)
    monkeypatch.undo()
    assert sum(embedded) == len(artifacts) + 2  # each output once, and the blank and the noise image once
    stored = store.embeddings(embedder_for("image", None), [a.sha256 for a in artifacts])
    fresh = judge.embed_images([image.convert("RGB") for image in images]).tolist()
    np.testing.assert_allclose([stored[a.sha256] for a in artifacts], fresh, atol=1e-5)
    expected = score_images(judge, images, [cases[a.case_id].instruction for a in artifacts],
                            [cases[a.case_id].contrasts for a in artifacts])
    for (artifact, scores), (clip_score, rank) in zip(judged, expected):
        by_metric = {s.metric: s for s in scores}
        assert by_metric["clip_score"].value == pytest.approx(clip_score.value, abs=1e-5)
        assert by_metric["r_precision"].passed == rank.passed
    controls = [(artifact, score) for artifact, scores in judged[len(artifacts):] for score in scores]
    assert len(controls) == 2 * len(cases) and all(score.kind == "control" for _, score in controls)
    for artifact, score in controls:  # one embedding per control image scores as each case's own pass would
        case = cases[artifact.case_id]
        _, rank = score_images(judge, [Image.open(artifact.path)], [case.instruction], [case.contrasts])[0]
        assert score.value == pytest.approx(1.0 - rank.value) and score.passed == (not rank.passed)
    store.close()
