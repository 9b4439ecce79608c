"""Generation and its cache, with a tiny adapter that implements the protocol (no model needed)."""

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grounding.running._generation import generate, generation_key, sample_seed
from grounding.reporting._terminal import judge_agreement
from grounding.results.store import Store
from grounding.types import Case, Record


@dataclass
class EchoAdapter:
    modality: str = "echo"
    suffix: str = ".txt"
    settings: dict = field(default_factory=lambda: {"temperature": 0})
    calls: list = field(default_factory=list)

    def generate(self, prompts, seeds):
        self.calls.append(list(zip(prompts, seeds)))
        return [f"{p}#{s}".encode() for p, s in zip(prompts, seeds)]


CASES = [Case("a", "echo", "first"), Case("b", "echo", "second")]


def test_generation_is_cached_by_model_content_prompt_seed_and_settings(tmp_path):
    store, adapter = Store(tmp_path), EchoAdapter()
    first = generate(adapter, CASES, [0, 1], store, model_hash="m1")
    assert first.from_cache == 0 and len(adapter.calls) == 1 and len(adapter.calls[0]) == 4
    assert first.artifacts[1].path.read_bytes() == f"first#{sample_seed('first', 1)}".encode()
    again = generate(adapter, CASES, [0, 1], store, model_hash="m1")
    assert again.from_cache == 4 and len(adapter.calls) == 1
    assert [a.path for a in again.artifacts] == [a.path for a in first.artifacts]
    other_model = generate(adapter, CASES, [0, 1], store, model_hash="m2")
    assert other_model.from_cache == 0 and len(adapter.calls) == 2
    more_seeds = generate(adapter, CASES, [0, 1, 2], store, model_hash="m1")
    assert more_seeds.from_cache == 4 and adapter.calls[-1] == [(p, sample_seed(p, 2)) for p in ("first", "second")]
    assert [a.seed for a in more_seeds.artifacts] == [0, 1, 2, 0, 1, 2]  # artifacts keep the run's seeds


def test_no_two_prompts_start_from_the_same_noise_at_one_seed():
    """Shared initial noise made one seed fail many cases at once; each prompt gets its own reproducible seed."""
    prompts = [f"prompt {i}" for i in range(200)]
    for seed in (0, 1, 500_024):
        derived = [sample_seed(p, seed) for p in prompts]
        assert len(set(derived)) == len(prompts) and all(0 <= d < 2 ** 32 for d in derived)
    assert sample_seed("a red circle", 7) == sample_seed("a red circle", 7) != sample_seed("a red circle", 8)


def test_a_damaged_artifact_is_regenerated_once_and_then_cached_again(tmp_path):
    store, adapter = Store(tmp_path), EchoAdapter()
    first = generate(adapter, CASES, [0], store, model_hash="m1")
    first.artifacts[0].path.write_bytes(b"damaged on disk")
    second = generate(adapter, CASES, [0], store, model_hash="m1")
    assert second.from_cache == 1 and adapter.calls[-1] == [("first", sample_seed("first", 0))]
    assert second.artifacts[0].path.read_bytes() == f"first#{sample_seed('first', 0)}".encode()  # rewritten, not kept because the file existed
    third = generate(adapter, CASES, [0], store, model_hash="m1")
    assert third.from_cache == 2 and len(adapter.calls) == 2


def test_generation_key_changes_with_every_input():
    adapter = EchoAdapter()
    base = generation_key("m", adapter, "p", 0)
    assert base == generation_key("m", adapter, "p", 0)
    changed = EchoAdapter(settings={"temperature": 1})
    assert len({base, generation_key("n", adapter, "p", 0), generation_key("m", adapter, "q", 0),
                generation_key("m", adapter, "p", 1), generation_key("m", changed, "p", 0)}) == 5


def test_judge_agreement_counts():
    def rec(case, seed, judge, ok):
        metric = "r_precision" if judge == "clip" else "correct"
        return Record("r", "0", "h", "t", case, seed, judge, metric, float(ok), ok, "x")

    records = [rec("a", 0, "clip", True), rec("a", 0, "oracle", True), rec("a", 1, "clip", True),
               rec("a", 1, "oracle", False), rec("b", 0, "clip", False), rec("b", 0, "oracle", False),
               rec("c", 0, "clip", True)]
    assert judge_agreement(records) == (1, 1, 0, 1)


def test_generation_reports_progress_between_chunks(tmp_path, monkeypatch):
    import grounding.running._generation as evaluate

    monkeypatch.setattr(evaluate, "CHUNK", 3)
    store, adapter, lines = Store(tmp_path), EchoAdapter(), []
    made = generate(adapter, CASES, [0, 1, 2, 3], store, model_hash="m1", progress=lambda *a: lines.append(a))
    assert [len(call) for call in adapter.calls] == [3, 3, 2]
    assert [line.split(" outputs (")[0] for line, _ in lines] == [f"echo: generated {n}/8" for n in (3, 6, 8)]
    assert all(re.search(r"outputs \(0 from cache\), [\d.]+ outputs/s, (ETA|in) \d+s$", line) for line, _ in lines)
    assert not any(final for _, final in lines) and made.from_cache == 0


def test_chunks_are_whole_batches_shrinking_towards_a_few_seconds_each():
    """A slow model (1.5 s an image on a CPU) asked for 64 outputs at once was silent for minutes: chunks are the
    adapter's batches, as many as take about CHUNK_SECONDS at the rate so far, at most CHUNK."""
    from grounding.running._generation import CHUNK, CHUNK_SECONDS, chunk_size, duration

    assert chunk_size(None, None) == chunk_size(None, 0.5) == CHUNK  # no batch declared: as before
    assert chunk_size(8, None) == 8  # one batch until a rate is measured
    assert chunk_size(8, 0.7) == 8  # slow: one batch per line
    assert chunk_size(8, 1000.0) == CHUNK  # fast: whole chunks, where batches overlap their encoding
    assert chunk_size(8, 20 / CHUNK_SECONDS) == 16 and chunk_size(128, 1000.0) == 128
    assert [duration(s) for s in (4.4, 65, 3725)] == ["4s", "1m05s", "1h02m"]


def test_a_score_of_an_unknown_kind_is_refused_naming_the_judge():
    from grounding.errors import GroundingUsageError
    from grounding.running._generation import RunInfo, to_records
    from grounding.types import Artifact, Score

    run = RunInfo("run", "0", "h")
    artifact = Artifact("case-1", 0, Path("a.png"), "0" * 64, False)
    (record,) = to_records(run, "text-to-image", artifact, [Score("mine", "m", 1.0, True, kind="control")])
    assert record.is_control and record.sha256 == "0" * 64
    with pytest.raises(GroundingUsageError, match="'mine' judge returned a score of kind 'baseline'"):
        to_records(run, "text-to-image", artifact, [Score("mine", "m", 1.0, True, kind="baseline")])
