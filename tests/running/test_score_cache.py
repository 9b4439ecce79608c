"""The score cache (second cache level), the model loaded only on demand, and `grounding rescore`.

Unit tests use a counting judge and outputs written straight into a store; the end-to-end tests run the bundled
text-to-image model on four cases, then rerun with the model's loader and the CLIP loader made to fail."""

import json
import sqlite3
from dataclasses import dataclass, field, replace

import pytest

import grounding
from grounding.cli import main
from grounding.inputs._checkpoint import BUNDLED
from grounding.errors import GroundingUsageError
from grounding.judges._registry import JudgeContext
from grounding.running._score_cache import judged_with_cache
from grounding.settings import from_values
from grounding.results.store import Store
from grounding.types import Artifact, Case, Score

CASES = {"a": Case("a", "echo", "first", ("other",)), "b": Case("b", "echo", "second")}


@dataclass(frozen=True)
class CountingJudge:
    """Scores an output by its length; adds one control artifact per case; counts what it was asked to judge."""

    asked: list = field(default_factory=list, compare=False)
    name: str = "length"
    reads: str = "echo"
    version: str = "1"
    weights: str = "w1"

    def identity(self, context):
        return {"weights": self.weights}

    def judge(self, artifacts, cases, context):
        self.asked.append([(a.case_id, a.seed) for a in artifacts])
        judged = [(a, [Score("length", "chars", float(len(a.path.read_bytes())), True, "counted", {"w": self.weights})])
                  for a in artifacts]
        for case_id in sorted({a.case_id for a in artifacts}):
            path, sha = context.store.write_artifact(f"control {case_id}".encode(), ".txt")
            judged.append((Artifact(case_id, 0, path, sha, False), [Score("length-control", "chars", 0.0, False, kind="control")]))
        return judged


@dataclass(frozen=True)
class UnkeyedJudge:
    """A judge that does not say what its scores depend on: never cached."""

    asked: list = field(default_factory=list, compare=False)
    name: str = "unkeyed"
    reads: str = "echo"
    version: str = "1"

    def judge(self, artifacts, cases, context):
        self.asked.append(len(artifacts))
        return [(a, [Score("unkeyed", "one", 1.0, True)]) for a in artifacts]


def outputs(store, seeds=(0, 1), text="{case}#{seed}"):
    made = []
    for case_id in CASES:
        for seed in seeds:
            path, sha = store.write_artifact(text.format(case=case_id, seed=seed).encode(), ".txt")
            made.append(Artifact(case_id, seed, path, sha, False))
    return made


@pytest.fixture
def context(tmp_path):
    store = Store(tmp_path / "store")
    yield JudgeContext(adapter=None, settings=from_values({}), store=store, model_hash="m", world=None)
    store.close()


def test_an_unchanged_judge_hits_and_returns_what_it_said(context):
    judge, artifacts = CountingJudge(), outputs(context.store)
    first, cached = judged_with_cache(judge, artifacts, CASES, context)
    assert cached == 0 and len(judge.asked) == 1 and len(first) == 4 + 2  # four outputs, a control per case
    again, cached = judged_with_cache(judge, artifacts, CASES, context)
    assert cached == 4 and len(judge.asked) == 1
    assert [(a.case_id, a.seed, a.sha256, list(s)) for a, s in again] == \
        [(a.case_id, a.seed, a.sha256, list(s)) for a, s in first]
    assert again[0][1][0].metadata == {"w": "w1"}


@pytest.mark.parametrize("change", ["version", "identity", "name"])
def test_a_changed_judge_misses(context, change):
    artifacts = outputs(context.store)
    judged_with_cache(CountingJudge(), artifacts, CASES, context)
    other = {"version": CountingJudge(version="2"), "identity": CountingJudge(weights="w2"),
             "name": CountingJudge(name="length2")}[change]
    _, cached = judged_with_cache(other, artifacts, CASES, context)
    assert cached == 0 and len(other.asked) == 1 and len(other.asked[0]) == 4


def test_a_changed_output_case_or_new_seed_is_judged_alone(context):
    judge = CountingJudge()
    judged_with_cache(judge, outputs(context.store), CASES, context)
    edited = {**CASES, "b": replace(CASES["b"], instruction="second, edited")}
    judged, cached = judged_with_cache(judge, outputs(context.store), edited, context)
    assert cached == 2 and judge.asked[-1] == [("b", 0), ("b", 1)]
    controls = sorted(a.case_id for a, s in judged if s[0].judge == "length-control")
    assert controls == ["a", "b"]  # case a's control comes from the cache, b's is judged again
    _, cached = judged_with_cache(judge, outputs(context.store, seeds=(0, 1, 2)), edited, context)
    assert cached == 4 and judge.asked[-1] == [("a", 2), ("b", 2)]
    _, cached = judged_with_cache(judge, outputs(context.store, text="{case}#{seed} changed"), edited, context)
    assert cached == 0  # other bytes, another hash: another output


def test_a_lost_control_or_an_unreadable_row_is_judged_again(context):
    judge, artifacts = CountingJudge(), outputs(context.store)
    first, _ = judged_with_cache(judge, artifacts, CASES, context)
    control = next(a for a, s in first if s[0].judge == "length-control")
    control.path.write_bytes(b"tampered")
    again, _ = judged_with_cache(judge, artifacts, CASES, context)
    assert len(judge.asked) == 2 and [s[0].judge for _, s in again].count("length-control") == 2
    assert all(a.path.read_bytes().startswith(b"control") for a, s in again if s[0].judge == "length-control")
    database = sqlite3.connect(context.store.root / "grounding.sqlite")
    with database:
        database.execute("UPDATE scores SET scores = '[{\"judge\": 1}]'")
    database.close()
    _, cached = judged_with_cache(judge, artifacts, CASES, context)
    assert cached == 0 and len(judge.asked) == 3


def test_a_judge_without_an_identity_is_judged_every_time(context):
    judge, artifacts = UnkeyedJudge(), outputs(context.store)
    for _ in range(2):
        _, cached = judged_with_cache(judge, artifacts, CASES, context)
        assert cached == 0
    assert judge.asked == [4, 4]


# end to end: the bundled text-to-image model on four cases

FOUR = """modality = "text-to-image"
""" + "".join(f"""
[[case]]
id = "{name}"
instruction = "{instruction}"
contrasts = ["a blue square", "a green triangle"]
concepts = ["{concept}"]
expect = {{ things = [{{ colour = "{colour}", shape = "{shape}" }}], count = 1 }}
""" for name, instruction, concept, colour, shape in [
    ("red-circle", "a red circle", "red", "red", "circle"), ("blue-square", "a blue square", "blue", "blue", "square"),
    ("green-triangle", "a green triangle", "green", "green", "triangle"),
    ("yellow-circle", "a yellow circle", "yellow", "yellow", "circle")])


@pytest.fixture(scope="module")
def judged_once(tmp_path_factory):
    """A store with one gate run of the bundled model on four cases x 2 seeds (round "first")."""
    root = tmp_path_factory.mktemp("score-cache")
    (root / "four.toml").write_text(FOUR)
    verdict = grounding.gate(BUNDLED / "shapes-t2i", baseline=None, round="first", store=root / "store",
                             cases={"text-to-image": root / "four.toml"}, seeds=2)
    return root, verdict


def _forbid_loading(monkeypatch):
    import grounding.modalities.text_to_image
    from grounding.judges.functional import clip

    def refuse(*args, **kwargs):
        raise AssertionError("an unchanged rerun must load no model")

    monkeypatch.setattr(grounding.modalities.text_to_image.TextToImage, "load", classmethod(refuse))
    monkeypatch.setattr(clip, "load_clip_judge", refuse)


def _values(store_root, round):
    store = Store(store_root, writable=False)
    try:
        run = store.find_run(round)
        return sorted((r.case_id, r.seed, r.judge, r.metric, r.value, r.passed, r.artifact, r.explanation)
                      for r in store.records(run)), next(r for r in store.runs() if r["run_id"] == run)
    finally:
        store.close()


@pytest.mark.e2e
@pytest.mark.slow
def test_an_unchanged_rerun_loads_no_model_and_gives_the_same_verdicts(judged_once, monkeypatch):
    root, first = judged_once
    _forbid_loading(monkeypatch)
    again = grounding.gate(BUNDLED / "shapes-t2i", baseline="first", round="again", store=root / "store",
                           cases={"text-to-image": root / "four.toml"}, seeds=2)
    assert again.passed == first.passed and again.failures() == first.failures()
    before, _ = _values(root / "store", "first")
    after, run = _values(root / "store", "again")
    assert after == before and len(after) > 8
    generation = run["settings"]["generation"]["text-to-image"]
    assert generation == {"artifacts": 8, "from_cache": 8, "scores_from_cache": 16, "model_loaded": False}


@pytest.mark.e2e
@pytest.mark.slow
def test_a_new_seed_loads_the_model_and_judges_only_the_new_outputs(judged_once):
    root, _ = judged_once
    grounding.gate(BUNDLED / "shapes-t2i", baseline=None, round="three-seeds", store=root / "store",
                   cases={"text-to-image": root / "four.toml"}, seeds=3)
    _, run = _values(root / "store", "three-seeds")
    assert run["settings"]["generation"]["text-to-image"] == {"artifacts": 12, "from_cache": 8,
                                                              "scores_from_cache": 16, "model_loaded": True}


@pytest.mark.e2e
@pytest.mark.slow
def test_rescore_with_another_judge_makes_a_linked_run_without_the_model(judged_once, monkeypatch, capsys):
    root, _ = judged_once
    import grounding.modalities.text_to_image

    monkeypatch.setattr(grounding.modalities.text_to_image.TextToImage, "load",
                        classmethod(lambda *a, **k: (_ for _ in ()).throw(AssertionError("rescore loads no model"))))
    other = BUNDLED / "shapes-ascii-clip"  # another open_clip model: every CLIP score is judged again
    assert main(["rescore", "--store", str(root / "store"), "--run", "first", "--judge", str(other),
                 "--round", "other-judge", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outputs"] == {"text-to-image": 8}
    assert result["from_cache"] == {"text-to-image": {"clip": 0, "shapes-oracle": 8}}
    before, old = _values(root / "store", "first")
    after, new = _values(root / "store", "other-judge")
    assert new["settings"]["rescored_from"] == old["run_id"] and new["settings"]["judge"] == str(other)
    oracle = [r[:6] for r in before if r[2] == "oracle"]
    assert oracle and [r[:6] for r in after if r[2] == "oracle"] == oracle
    assert [r[4] for r in after if r[2] == "clip"] != [r[4] for r in before if r[2] == "clip"]
    assert {r[6] for r in after if r[2] != "clip-control"} == {r[6] for r in before if r[2] != "clip-control"}


@pytest.mark.e2e
@pytest.mark.slow
def test_rescore_refuses_what_it_cannot_do(judged_once, tmp_path, capsys):
    root, _ = judged_once
    assert main(["rescore", "--store", str(root / "store"), "--run", "no-such-round"]) == 2
    assert "no run or round of that name" in capsys.readouterr().err
    assert main(["rescore", "--store", str(tmp_path / "typo"), "--run", "first"]) == 2
    assert "no grounding.sqlite there" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()  # a mistyped store is not created
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(root / "store", copy)
    _, run = _values(copy, "first")
    store = Store(copy, writable=False)
    victim = next(r for r in store.records(run["run_id"]) if r.judge == "oracle")
    store.artifact_path(victim.artifact).unlink()
    store.close()
    with pytest.raises(GroundingUsageError, match="missing from the store or damaged"):
        from grounding.running._rescore import rescore

        rescore(copy, "first")
    store = Store(copy, writable=False)
    assert len(store.runs()) == len(Store(root / "store", writable=False).runs())  # no run was added
    store.close()


def test_outputs_are_judged_a_few_whole_cases_at_a_time_with_progress(context, monkeypatch):
    """The judge was given every output at once: a code or self-description judge ran for minutes with no
    progress. Now whole cases of about JUDGED_AT_ONCE outputs per call, each given only its own cases (a judge's
    controls are per case), with progress(done, total) after each."""
    import grounding.running._score_cache as score_cache

    monkeypatch.setattr(score_cache, "JUDGED_AT_ONCE", 3)
    judge, steps = CountingJudge(), []
    judged, _ = judged_with_cache(judge, outputs(context.store, seeds=(0, 1, 2)), CASES, context,
                                  lambda done, total: steps.append((done, total)))
    assert judge.asked == [[("a", 0), ("a", 1), ("a", 2)], [("b", 0), ("b", 1), ("b", 2)]]
    assert steps == [(3, 6), (6, 6)]
    assert sorted(a.case_id for a, scores in judged if scores[0].kind == "control") == ["a", "b"]
