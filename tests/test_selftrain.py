"""The self-training harness at tiny settings: rounds are fine-tuned, saved as safetensors, gated against round 0
and stored; a destructive round stops the run; bad input is refused. (The drift it shows at full settings is
measured in README, not asserted here: that takes minutes per round.)"""

import io
import sqlite3

import pytest
from PIL import Image

from grounding.checkpoint import BUNDLED, content_hash
from grounding.cli import main
from grounding.selftrain import SelfTrainConfig, _training_set

T2I = BUNDLED / "shapes-t2i"


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Twelve text-to-image cases of the suite, to keep each round's gate short."""
    text = (BUNDLED.parents[1] / "suites" / "cases" / "text_to_image.toml").read_text()
    head, *blocks = text.split("[[case]]")
    path = tmp_path_factory.mktemp("cases") / "cases.toml"
    path.write_text(head + "".join("[[case]]" + b for b in blocks[:12]))
    return path


def _selftrain(workdir, cases, *extra):
    return main(["selftrain", "--model", str(T2I), "--workdir", str(workdir), "--images", "16", "--batch", "8",
                 "--seeds", "1", "--cases", str(cases), *extra])


def test_rounds_are_fine_tuned_saved_gated_and_stored(tmp_path, cases, capsys):
    code = _selftrain(tmp_path / "run", cases, "--rounds", "2", "--steps", "2", "--lr", "1e-5")
    out = capsys.readouterr().out
    assert code == 0, out
    for round_ in (1, 2):
        folder = tmp_path / "run" / f"round-{round_}"
        assert (folder / "grounding.toml").read_text().startswith('[modalities.text-to-image]\npath = "pipeline"')
        assert list((folder / "pipeline" / "unet").glob("*.safetensors"))
        assert content_hash(folder / "pipeline") != content_hash(T2I)  # the weights were trained
    db = sqlite3.connect(tmp_path / "run" / "store" / "grounding.sqlite")
    rounds = [r for (r,) in db.execute("SELECT round FROM runs ORDER BY started")]
    baselines = [b for (b,) in db.execute("SELECT json_extract(settings, '$.baseline') FROM runs ORDER BY started")]
    assert rounds == ["0", "1", "2"] and baselines == [None, "0", "0"]
    assert "grounding gate passed: round '2'" in out and "text-to-image:" in out
    assert (tmp_path / "run" / "report.html").read_text().startswith("<!doctype html>")


def test_a_destructive_round_fails_the_gate_and_stops_the_run(tmp_path, cases, capsys):
    code = _selftrain(tmp_path / "run", cases, "--rounds", "3", "--steps", "4", "--lr", "0.5")
    out = capsys.readouterr().out
    assert code == 1
    assert "grounding gate FAILED: round '1'" in out and "stopping" in out and "REGRESSED" in out
    assert not (tmp_path / "run" / "round-2").exists()


def test_bad_input_is_refused(tmp_path, cases, capsys):
    assert main(["selftrain", "--model", str(BUNDLED / "shapes-lm"), "--rounds", "1",
                 "--workdir", str(tmp_path / "w")]) == 2
    assert "no text-to-image pipeline there" in capsys.readouterr().err
    (tmp_path / "used" / "store").mkdir(parents=True)
    (tmp_path / "used" / "store" / "grounding.sqlite").write_bytes(b"")
    assert _selftrain(tmp_path / "used", cases, "--rounds", "1") == 2
    assert "already holds a self-training run" in capsys.readouterr().err
    assert _selftrain(tmp_path / "x", cases, "--rounds", "1", "--fresh", "1.5") == 2


class CountingAdapter:
    """Makes grey squares and counts what it was asked for: the harness's only use of the adapter."""

    def __init__(self):
        self.asked = 0

    def generate(self, prompts, seeds):
        self.asked += len(prompts)
        buffer = io.BytesIO()
        Image.new("RGB", (32, 32), "grey").save(buffer, format="PNG")
        return [buffer.getvalue()] * len(prompts)


@pytest.mark.parametrize("fresh,generated", [(0.0, 20), (0.25, 15), (1.0, 0)])
def test_a_fresh_share_of_each_training_set_is_rendered_not_generated(fresh, generated):
    adapter = CountingAdapter()
    images, captions = _training_set(adapter, SelfTrainConfig(T2I, 1, T2I, images=20, fresh=fresh), 1)
    assert adapter.asked == generated and len(images) == len(captions) == 20
    assert all(image.size == (32, 32) for image in images)
    again = _training_set(CountingAdapter(), SelfTrainConfig(T2I, 1, T2I, images=20, fresh=fresh), 1)[1]
    assert again == captions  # the captions of a round are reproducible from the seed
