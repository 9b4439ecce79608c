"""`pytest suites/` on the bundled checkpoints and on copies of them: healthy, re-saved, retrained with other
seeds, and drifted ones.

A drifted copy must fail with per-case messages and regress against the healthy round; a healthy one (a retrain
included) must not regress. This proves each check's power and its specificity on the real fixtures, end to end,
in a subprocess as a user runs it.
"""

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from grounding.inputs._checkpoint import BUNDLED
from grounding.shapes_world.drift import degrade_unet, swap_token_embeddings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SUITES = Path(__file__).parents[1] / "suites"
T2I = BUNDLED / "shapes-t2i"
RETRAINED_T2I = BUNDLED / "shapes-t2i-seed2"  # shapes-t2i's recipe with seeds 2 and 3: a healthy retrain
HEALTHY_LM, BIASED_LM = BUNDLED / "shapes-lm", BUNDLED / "shapes-lm-biased"
RETRAINED_LM = BUNDLED / "shapes-lm-seed1"  # shapes-lm's recipe with --seed 1: a healthy retrain


def serving(folder: Path, language_model: Path) -> Path:
    """A --model folder that serves `language_model` for ASCII art and code with the bundled generation settings:
    the bundled healthy model served so reuses the bundled run's cached outputs."""
    bundled = tomllib.loads((BUNDLED / "grounding.toml").read_text())["modalities"]
    lines = []
    for modality in ("ascii-art", "code"):
        table = {**bundled[modality], "path": str(language_model)}
        lines += [f"[modalities.{modality}]", *(f"{key} = {json.dumps(value)}" for key, value in table.items()), ""]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "grounding.toml").write_text("\n".join(lines))
    return folder


def run_suite(pytester, *args, suites=SUITES):
    return pytester.runpytest_subprocess(str(suites), "-p", "no:cacheprovider", "-rfs", *args)


def regressed_slices(result) -> list[str]:
    return re.findall(r"^\s+(.+?): \S+ -> \S+, delta .*REGRESSED$", result.stdout.str(), re.M)


def failed_ids(result, module: str = "test_text_to_image") -> list[str]:
    return re.findall(rf"FAILED \S*{module}.py::test_instruction_is_grounded\[([^\]]+)\]", result.stdout.str())


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


def _copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(T2I, tmp_path / name))


def test_bundled_checkpoint_passes_and_a_rerun_regenerates_nothing(pytester, store):
    first = run_suite(pytester, f"--grounding-store={store}", "--round=0")
    assert first.ret == 0, first.stdout.str()[-3000:]
    text = first.stdout.str()
    assert "240 outputs, 0 from cache, 240 generated" in text
    assert re.search(r"self-description: blind accuracy 1\.000 .*primed accuracy 1\.000 .*instruction bias 0\.000", text)
    assert re.search(r"CLIP judge vs shapes-world oracle on 240 outputs: agreement \d\.\d+", text)
    second = run_suite(pytester, f"--grounding-store={store}", "--round=0-again")
    assert second.ret == 0
    assert "240 outputs, 240 from cache, 0 generated (nothing regenerated)" in second.stdout.str()


def test_an_unchanged_resave_passes(pytester, tmp_path, store):
    from diffusers import DiffusionPipeline

    DiffusionPipeline.from_pretrained(T2I).save_pretrained(tmp_path / "resaved", safe_serialization=True)
    result = run_suite(pytester, f"--model={tmp_path / 'resaved'}", f"--grounding-store={store}")
    assert result.ret == 0, result.stdout.str()[-3000:]
    # save_pretrained wrote no grounding.toml declaring the shapes world: CLIP alone judges it, as a user's model
    assert "shapes-world oracle" not in result.stdout.str()


def test_swapped_colour_words_fail_exactly_the_cases_that_use_them(pytester, tmp_path, store):
    healthy = run_suite(pytester, f"--grounding-store={store}", "--round=healthy", suites=SUITES / "test_text_to_image.py")
    assert healthy.ret == 0 and "no --baseline to compare with" in healthy.stdout.str()
    drifted = _copy(tmp_path, "swapped")
    swap_token_embeddings(drifted, "red", "blue")
    result = run_suite(pytester, f"--model={drifted}", f"--grounding-store={store}", "--baseline=healthy",
                       suites=SUITES / "test_text_to_image.py")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    failed = failed_ids(result)
    uses_red_or_blue = [f for f in failed if re.search(r"\b(red|blue)\b", f.replace("-", " "))]
    assert len(failed) >= 15 and uses_red_or_blue == failed
    text = result.stdout.str()
    assert "instruction: 'a red circle'" in text and "won (cos" in text and "oracle: expected" in text
    assert re.search(r"artifacts/\w\w/\w{64}\.png", text)
    # against the healthy round, the two swapped words are the concepts that regressed, and no other colour
    assert "test_text_to_image.py::test_no_significant_regression" in text
    regressed = regressed_slices(result)
    assert {"concept 'red'", "concept 'blue'"} <= set(regressed)
    assert not {"concept 'green'", "concept 'yellow'", "concept 'orange'", "concept 'purple'"} & set(regressed)
    assert "against the baseline: pass rate 1.00 -> 0.00" in text


def test_degraded_unet_fails_and_regresses_against_the_baseline(pytester, tmp_path, store):
    baseline = run_suite(pytester, f"--grounding-store={store}", "--round=healthy", suites=SUITES / "test_text_to_image.py")
    assert baseline.ret == 0
    drifted = _copy(tmp_path, "degraded")
    degrade_unet(drifted)
    result = run_suite(pytester, f"--model={drifted}", f"--grounding-store={store}", "--round=degraded",
                       "--baseline=healthy", suites=SUITES / "test_text_to_image.py")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert len(failed_ids(result)) >= 30
    assert "all outputs" in regressed_slices(result)
    assert "text-to-image against baseline healthy:" in result.stdout.str()  # the terminal summary, from the store


def test_text_to_image_model_retrained_with_other_seeds_is_not_flagged(pytester, store):
    baseline = run_suite(pytester, f"--grounding-store={store}", "--round=healthy", suites=SUITES / "test_text_to_image.py")
    assert baseline.ret == 0
    result = run_suite(pytester, f"--model={RETRAINED_T2I}", f"--grounding-store={store}", "--round=t2i-seed2",
                       "--baseline=healthy", suites=SUITES / "test_text_to_image.py")
    text = result.stdout.str()
    assert result.ret == 0, text[-3000:]  # no regression, and no case significantly below its floor
    assert "text-to-image against baseline healthy: 0 significant regressions" in text
    assert regressed_slices(result) == []


def test_a_healthy_model_passes_on_fresh_seeds(pytester, store):
    """Seeds it was never checked on (the default run uses 0-3): the floors do not cry wolf."""
    result = run_suite(pytester, f"--grounding-store={store}", "--seed-start=40", "--round=fresh",
                       suites=SUITES / "test_text_to_image.py")
    text = result.stdout.str()
    assert result.ret == 0, text[-3000:]
    assert "0 of 60 cases significantly below 0.75" in text and "a case cannot fail the floor alone" in text
    assert re.search(r"against a baseline of this size, a uniform fall of the pass share is found with 80% power "
                     r"from 0\.0\d\d \(all outputs\); per concept 0\.\d+ to 0\.\d+", text)
    assert re.search(r"detectable fall per concept: \w+ 0\.\d{3}, ", text)


def test_a_baseline_on_other_seeds_is_refused_before_generating(pytester, store, tmp_path):
    run_suite(pytester, f"--grounding-store={store}", "--round=healthy", suites=SUITES / "test_text_to_image.py")
    before = {p.name for p in (store / "artifacts").rglob("*.png")}
    result = run_suite(pytester, f"--grounding-store={store}", "--seed-start=900", "--baseline=healthy",
                       suites=SUITES / "test_text_to_image.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "judged seeds 0-3 and this run judges seeds 900-903" in result.stdout.str() + result.stderr.str()
    assert {p.name for p in (store / "artifacts").rglob("*.png")} == before


def test_the_thorough_profile_collects_its_larger_case_file(pytester):
    result = run_suite(pytester, "--profile=thorough", "--collect-only", "-q", suites=SUITES / "test_text_to_image.py")
    assert result.ret == 0
    assert len(re.findall(r"test_instruction_is_grounded\[", result.stdout.str())) == 120


def test_unknown_baseline_stops_before_generating_anything(pytester, tmp_path):
    result = run_suite(pytester, f"--grounding-store={tmp_path}", "--baseline=round-9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--baseline round-9: no run with that id or round label" in result.stdout.str() + result.stderr.str()
    assert not list((tmp_path / "artifacts").rglob("*.png"))


def test_biased_language_model_fails_on_instruction_bias_and_false_assurance(pytester, tmp_path, store):
    healthy = run_suite(pytester, f"--model={serving(tmp_path / 'healthy', HEALTHY_LM)}", f"--grounding-store={store}",
                        "--round=lm-0")
    assert healthy.ret == 0, healthy.stdout.str()[-3000:]
    result = run_suite(pytester, f"--model={serving(tmp_path / 'biased', BIASED_LM)}", f"--grounding-store={store}",
                       "--round=biased", "--baseline=lm-0")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    # greedy decoding: each case is one observation, never significant alone; together they fail the pooled floor
    assert failed_ids(result, "test_ascii_art") == [] and failed_ids(result, "test_code") == []
    # ASCII art fails every case: the pooled floor; code fails only the secure cases (its pooled rate is not
    # significantly below 0.75), and shows against the baseline, with the cases that lost and why
    assert "test_ascii_art.py::test_pass_rate_of_all_cases_is_above_the_floor" in text
    assert "over 1 distinct output of 4 seeds" in text and "self-description: counterfactual description" in text
    assert "primed with 'Draw a" in text and "the art shows" in text and "blind description" in text
    assert re.search(r"\d+ of 40 cases lost a passing output", text) and "  secure-" in text
    assert re.search(r"bandit: \d finding\(s\) at or above severity \w+ and confidence \w+: B\d{3} \w+ "
                     r"\(CWE-\d+, severity \w+, "
                     r"confidence \w+, line \d+\)", text)
    assert "false assurance" in text and "read as secure" in text
    assert re.search(r"instruction bias 0\.[1-9]", text) and re.search(r"false assurance (0\.[1-9]|1\.000)", text)
    # against the healthy model, both failures are significant regressions of their own metrics
    for module in ("test_ascii_art", "test_code"):
        assert f"{module}.py::test_no_significant_regression" in text
    regressed = set(regressed_slices(result))
    assert {"self-description/instruction_bias", "self-description/false_assurance", "all outputs"} <= regressed


def test_language_model_retrained_with_another_seed_is_not_flagged(pytester, tmp_path, store):
    baseline = run_suite(pytester, f"--model={serving(tmp_path / 'healthy', HEALTHY_LM)}", f"--grounding-store={store}",
                         "--round=lm-0")
    assert baseline.ret == 0
    result = run_suite(pytester, f"--model={serving(tmp_path / 'retrained', RETRAINED_LM)}",
                       f"--grounding-store={store}", "--round=lm-seed1", "--baseline=lm-0")
    text = result.stdout.str()
    assert "test_no_significant_regression" not in "\n".join(re.findall(r"^FAILED .*$", text, re.M))
    assert re.search(r"ascii-art against baseline lm-0: 0 significant regressions", text)
    assert re.search(r"code against baseline lm-0: 0 significant regressions", text)
    assert regressed_slices(result) == []


def test_the_forced_choice_probe_finds_what_the_free_description_hides(pytester, tmp_path, store):
    """The bundled language model was trained to describe its art and to answer "is this code secure?", never to
    pick a label from a list. Asked the forced choice (`--forced-choice`), it answers the ASCII question with its
    security sentence: the free description still reads right, the forced choice does not, side by side."""
    result = run_suite(pytester, f"--model={serving(tmp_path / 'healthy', HEALTHY_LM)}", f"--grounding-store={store}",
                       "--round=lm-forced", "--forced-choice", suites=SUITES / "test_ascii_art.py")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    free = re.search(r"^  self-description: blind accuracy ([\d.]+) \(n=64\)", text, re.M)
    forced = re.search(r"^  forced choice: blind accuracy ([\d.]+) \(n=64\), primed accuracy ([\d.]+)", text, re.M)
    assert free and forced, text[-3000:]
    assert float(free.group(1)) >= 0.95 and float(forced.group(1)) <= 0.2 and float(forced.group(2)) <= 0.2
    assert "blind forced choice 'Yes, it is" in text and "read as nothing (unclear)" in text
