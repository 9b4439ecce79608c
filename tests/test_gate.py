"""grounding.gate: the release gate from Python, on the bundled language models (ASCII art, all 16 cases)."""

import pytest

import grounding
from grounding.checkpoint import BUNDLED
from grounding.store import Store

HEALTHY, BIASED = BUNDLED / "shapes-lm", BUNDLED / "shapes-lm-biased"


def _gate(model, store, **kwargs):
    return grounding.gate(model, store=store, modalities=["ascii-art"], seeds=1, **kwargs)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("gate-store")
    first = _gate(HEALTHY, root, baseline=None, round="0")
    assert first.passed and first.comparisons == () and "with no baseline" in first.summary()
    return root


def test_the_same_model_passes_against_its_own_round(store):
    verdict = _gate(HEALTHY, store, baseline="0", round="0-again")
    assert verdict.passed and verdict.regressions() == []
    [comparison] = verdict.comparisons
    assert comparison.modality == "ascii-art" and all(s.interval.mean == 0 for s in comparison.slices)


def test_a_model_that_parrots_its_instruction_fails_the_gate_and_is_stored(store):
    verdict = _gate(BIASED, store, baseline="0", round="1")
    assert not verdict.passed
    regressed = {s.name for c in verdict.comparisons for s in c.regressions}
    assert {"all outputs", "self-description/instruction_bias"} <= regressed
    assert "grounding gate FAILED: round '1'" in verdict.summary() and "REGRESSED" in verdict.summary()
    reopened = Store(store)
    assert verdict.run_id in [r["run_id"] for r in reopened.runs()]
    assert set(reopened.cases(verdict.run_id)["ascii-art"]) == {c.case_id for c in verdict.comparisons[0].cases}
    reopened.close()


def test_bad_input_is_refused_before_anything_runs(store, tmp_path):
    runs = len(Store(store).runs())
    with pytest.raises(grounding.GroundingUsageError, match="no run with that id or round label"):
        _gate(HEALTHY, store, baseline="round-9")
    with pytest.raises(grounding.GroundingUsageError, match="holds none of the modalities"):
        grounding.gate(HEALTHY, store=store, baseline="0", modalities=["text-to-image"])
    with pytest.raises(grounding.GroundingUsageError, match="no case file for ascii-art"):
        _gate(HEALTHY, store, baseline="0", cases={"ascii-art": tmp_path / "missing.toml"})
    with pytest.raises(grounding.GroundingUsageError, match="--seeds"):
        grounding.gate(HEALTHY, store=store, baseline="0", seeds=0)
    assert len(Store(store).runs()) == runs
