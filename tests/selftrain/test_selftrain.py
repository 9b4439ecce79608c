"""The self-training harness at tiny settings: rounds of the text-to-image and the language model are fine-tuned
on their own outputs, saved as safetensors, gated against round 0 and stored; a destructive round stops the run;
bad input is refused. (The drift it shows at full settings is measured in README, not asserted here: that takes
minutes per round.)"""

import io
import random
import sqlite3

import pytest
from PIL import Image

from grounding.inputs._checkpoint import BUNDLED, content_hash
from grounding.cli import main
from grounding.selftrain._own_outputs import conversation_training_set, image_training_set

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

T2I, LM = BUNDLED / "shapes-t2i", BUNDLED / "shapes-lm"
SUITE_CASES = BUNDLED.parents[1] / "suites" / "cases"


def _head_of(name: str, count: int, folder):
    """The first `count` cases of one of the suite's case files, to keep each round's gate short."""
    head, *blocks = (SUITE_CASES / name).read_text().split("[[case]]")
    path = folder / name
    path.write_text(head + "".join("[[case]]" + b for b in blocks[:count]))
    return path


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return _head_of("text_to_image.toml", 12, tmp_path_factory.mktemp("cases"))


@pytest.fixture(scope="module")
def text_cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text-cases")
    return _head_of("ascii_art.toml", 3, folder), _head_of("code.toml", 3, folder)


def _selftrain(workdir, cases, *extra):
    return main(["selftrain", "--model", str(T2I), "--workdir", str(workdir), "--images", "16", "--batch", "8",
                 "--seeds", "1", "--cases", str(cases), *extra])


def test_rounds_are_fine_tuned_saved_gated_and_stored(tmp_path, cases, capsys):
    code = _selftrain(tmp_path / "run", cases, "--rounds", "2", "--steps", "2", "--lr", "1e-5")
    out = capsys.readouterr().out
    assert code == 0, out
    for round_ in (1, 2):
        folder = tmp_path / "run" / f"round-{round_}"
        assert (folder / "grounding.toml").read_text().startswith(
            'world = "shapes"\n\n[modalities.text-to-image]\npath = "pipeline"')  # the world carries over
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


def test_the_language_model_learns_from_its_own_outputs_and_descriptions(tmp_path, text_cases, capsys):
    code = main(["selftrain", "--model", str(LM), "--workdir", str(tmp_path / "run"), "--rounds", "1", "--texts", "8",
                 "--steps", "2", "--batch", "4", "--seeds", "1", "--cases", str(text_cases[0]),
                 "--cases", str(text_cases[1])])
    out = capsys.readouterr().out
    assert code == 0, out
    folder = tmp_path / "run" / "round-1"
    assert (folder / "grounding.toml").read_text() == ('[modalities.ascii-art]\npath = "language-model"\n\n'
                                                        '[modalities.code]\npath = "language-model"\n')
    assert list((folder / "language-model").glob("*.safetensors"))
    assert content_hash(folder / "language-model") != content_hash(LM)
    db = sqlite3.connect(tmp_path / "run" / "store" / "grounding.sqlite")
    stored = db.execute("SELECT DISTINCT round, modality FROM records ORDER BY round, modality").fetchall()
    assert stored == [("0", "ascii-art"), ("0", "code"), ("1", "ascii-art"), ("1", "code")]
    assert "ascii-art:" in out and "code:" in out and "instruction_bias" in out


def test_bad_input_is_refused(tmp_path, cases, capsys):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "grounding.toml").write_text('[modalities.audio]\npath = "."\n')
    assert main(["selftrain", "--model", str(tmp_path / "audio"), "--rounds", "1",
                 "--workdir", str(tmp_path / "w")]) == 2
    assert "no text-to-image pipeline or causal language model there" in capsys.readouterr().err
    (tmp_path / "two-lms" / "grounding.toml").parent.mkdir()
    (tmp_path / "two-lms" / "grounding.toml").write_text(
        f'[modalities.ascii-art]\npath = "{LM}"\n[modalities.code]\npath = "{BUNDLED / "shapes-lm-seed1"}"\n')
    assert main(["selftrain", "--model", str(tmp_path / "two-lms"), "--rounds", "1",
                 "--workdir", str(tmp_path / "w")]) == 2
    assert "name different language models" in capsys.readouterr().err
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
    images, captions = image_training_set(adapter, 20, fresh, random.Random(1))
    assert adapter.asked == generated and len(images) == len(captions) == 20
    assert all(image.size == (32, 32) for image in images)
    again = image_training_set(CountingAdapter(), 20, fresh, random.Random(1))[1]
    assert again == captions  # the captions of a round are reproducible from the seed


class EchoingTextAdapter:
    """Answers every instruction with a marked echo and every follow-up with a marked description."""

    def __init__(self, modality):
        self.modality, self.asked, self.described = modality, [], []

    def generate(self, prompts, seeds):
        self.asked += prompts
        return [f"OWN {self.modality} for: {p}".encode() for p in prompts]

    def describe(self, outputs, instructions, seeds):
        self.described += list(zip(outputs, instructions))
        return ["OWN description" for _ in outputs]


@pytest.mark.parametrize("fresh", [0.0, 0.3, 1.0])
def test_the_language_model_trains_on_its_own_outputs_and_its_own_descriptions_of_them(fresh):
    adapters = {m: EchoingTextAdapter(m) for m in ("ascii-art", "code")}
    pairs = conversation_training_set(adapters, 41, fresh, random.Random(3))
    assert len(pairs) == 41
    own = [(user, answer) for user, answer in pairs if answer.startswith("OWN")]
    assert len(own) == 41 - round(41 * fresh)
    if not own:
        assert all(not a.asked for a in adapters.values())
        return
    made = [(user, answer) for user, answer in own if answer.startswith("OWN ascii-art") or
            answer.startswith("OWN code")]
    described = [(user, answer) for user, answer in own if answer == "OWN description"]
    assert made and described
    assert all(answer.endswith(f"for: {user}") for user, answer in made)  # the instruction, with its own output
    assert all("OWN " in user for user, _ in described)  # each follow-up shows the model's own output
    assert any(user.startswith("You were asked:") for user, _ in described)  # primed ...
    assert any(not user.startswith("You were asked:") for user, _ in described)  # ... and blind
    assert all(a.asked for a in adapters.values())  # both modalities share the own pairs
    assert {a.asked[0].startswith("Draw") for a in adapters.values()} == {True, False}
    assert pairs == conversation_training_set({m: EchoingTextAdapter(m) for m in adapters}, 41, fresh,
                                              random.Random(3))
