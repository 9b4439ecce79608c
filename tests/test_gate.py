"""grounding.gate: the release gate from Python, on the bundled language models (ASCII art, all 16 cases), and
its verdicts against `pytest suites/`'s on a drifted text-to-image model."""

import json
from pathlib import Path

import pytest

import grounding
from grounding.inputs._checkpoint import BUNDLED
from grounding.results.store import Store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SUITES = Path(__file__).parents[1] / "suites"

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
    assert comparison.modality == "ascii-art" and len(comparison.slices) > 3
    assert all(s.interval.mean == 0 for s in comparison.slices)


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


def test_a_profile_sets_what_is_not_given(store):
    verdict = _gate(HEALTHY, store, baseline="0", round="thorough", profile="thorough")
    settings = verdict.results["ascii-art"].settings
    assert (settings.seeds, settings.concept_tolerance, settings.tolerance) == (1, 0.02, 0.25)
    assert verdict.passed and verdict.comparisons[0].thresholds.concept_tolerance == 0.02


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


def test_gate_and_pytest_give_the_same_verdicts(pytester, tmp_path):
    """On a drifted text-to-image model (red and blue swapped), 12 cases at 8 seeds: the same failing cases, the
    same pooled floor, from the same store."""
    import re
    import shutil
    import tomllib

    from grounding.shapes_world.drift import swap_token_embeddings

    every = tomllib.loads((SUITES / "cases" / "text_to_image.toml").read_text())["case"]
    chosen = [c for c in every if c["category"] == "attribute" and re.search(r"\b(red|blue|green)\b", c["instruction"])]
    cases = tmp_path / "cases.toml"
    cases.write_text('modality = "text-to-image"\n' + "".join(
        f'[[case]]\nid = "{c["id"]}"\ninstruction = "{c["instruction"]}"\ncategory = "attribute"\n'
        f'contrasts = {json.dumps(c["contrasts"])}\nexpect = {{ things = [{{ colour = "{c["expect"]["things"][0]["colour"]}", '
        f'shape = "{c["expect"]["things"][0]["shape"]}" }}], count = 1 }}\n' for c in chosen))
    swapped = Path(shutil.copytree(BUNDLED / "shapes-t2i", tmp_path / "swapped"))
    swap_token_embeddings(swapped, "red", "blue")
    suite = (SUITES / "test_text_to_image.py").read_text().replace('cases="cases/text_to_image.toml"', f'cases="{cases}"')
    pytester.makepyfile(test_swapped=suite)
    store = tmp_path / "store"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--model={swapped}", "--seeds=8",
                                           f"--grounding-store={store}")
    failed_by_pytest = set(re.findall(r"FAILED \S*::test_instruction_is_grounded\[([^\]]+)\]", result.stdout.str()))
    verdict = grounding.gate(swapped, baseline=None, store=store, cases={"text-to-image": cases}, seeds=8)
    results = verdict.results["text-to-image"]
    failed_by_gate = {cid for cid in results.cases if not results.verdict(cid).passed}
    assert len(chosen) == 9 and failed_by_gate and failed_by_gate == failed_by_pytest
    assert all(re.search(r"\b(red|blue)\b", results.cases[cid].instruction) for cid in failed_by_gate)
    assert ("test_pass_rate_of_all_cases_is_above_the_floor" in result.stdout.str()) == results.floors.pooled.failed
    assert not verdict.passed and any(line.startswith("text-to-image: case ") for line in verdict.failures())
