"""The plugin, driven black-box through pytester: options, ini settings and clear usage errors."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from grounding.inputs import BUNDLED


def test_options_are_grouped_and_mirrored_as_ini(pytester):
    result = pytester.runpytest("--help")
    text = result.stdout.str()
    assert "cross-modal grounding suite:" in text
    for flag in ("--model", "--judge", "--round", "--baseline", "--grounding-store", "--seeds", "--min-pass-rate",
                 "--tolerance", "--concept-tolerance", "--clip-tolerance", "--confidence", "--allow-pickle"):
        assert flag in text
    for ini in ("grounding_model", "grounding_judge", "grounding_store", "grounding_min_pass_rate"):
        assert ini in text


def _usage_error(result, *fragments):
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str()
    assert "Traceback" not in text
    for fragment in fragments:
        assert fragment in text, text


def test_missing_model_path(pytester, tmp_path):
    _usage_error(pytester.runpytest(f"--model={tmp_path / 'nope'}"), "no such file or directory")


def test_folder_that_is_not_a_checkpoint(pytester, tmp_path):
    _usage_error(pytester.runpytest(f"--model={tmp_path}"), "is not a checkpoint", "model_index.json")


def test_pickle_checkpoint_is_refused_unless_allowed(pytester, tmp_path):
    (tmp_path / "unet").mkdir()
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    torch.save({"w": torch.ones(2)}, tmp_path / "unet" / "diffusion_pytorch_model.bin")
    _usage_error(pytester.runpytest(f"--model={tmp_path}"), "pickle checkpoint", "--allow-pickle")
    pytester.makepyfile("def test_ok():\n    assert True\n")
    assert pytester.runpytest(f"--model={tmp_path}", "--allow-pickle").ret == 0


@pytest.mark.parametrize("part, fragment", [
    ("tokenizer", "the tokenizer (CLIPTokenizer) is missing"),
    ("text_encoder", "the text_encoder (CLIPTextModel) is missing"),
    ("unet/diffusion_pytorch_model.safetensors", "the unet (UNet2DConditionModel) is incomplete"),
    ("linked tokenizer", "tokenizer is a symbolic link to ../shapes-t2i/tokenizer, which does not exist"),
])
def test_a_pipeline_missing_a_part_is_one_usage_error_before_any_test_runs(pytester, tmp_path, part, fragment):
    """A copy of the bundled pipeline with a part gone (or linked to a sibling folder the copy left behind):
    before, each test of the suite failed on its own traceback from the tokenizer; now the run stops first."""
    copy = shutil.copytree(BUNDLED / "shapes-t2i", tmp_path / "pipe")
    gone = copy / part.removeprefix("linked ")
    shutil.rmtree(gone) if gone.is_dir() else gone.unlink()
    if part.startswith("linked "):
        gone.symlink_to(Path("..") / "shapes-t2i" / "tokenizer")
    pytester.makepyfile("import pytest\n\n@pytest.mark.parametrize('n', range(3))\ndef test_one(n):\n"
                        "    raise AssertionError('a test ran')\n")
    result = pytester.runpytest(f"--model={copy}")
    _usage_error(result, fragment, str(copy))
    assert result.stderr.str().count("ERROR:") == 1 and "a test ran" not in result.stdout.str()


def test_corrupt_safetensors(pytester, tmp_path):
    (tmp_path / "unet").mkdir()
    (tmp_path / "model_index.json").write_text("{}")
    save_file({"w": torch.ones(64)}, tmp_path / "unet" / "m.safetensors")
    data = (tmp_path / "unet" / "m.safetensors").read_bytes()
    (tmp_path / "unet" / "m.safetensors").write_bytes(data[: len(data) // 2])
    _usage_error(pytester.runpytest(f"--model={tmp_path}"), "not a readable safetensors file")


@pytest.mark.parametrize("judge, fragment", [
    ("NoSuchArch:openai", "open_clip knows no architecture 'NoSuchArch'"),
    ("ViT-B-32:no-such-tag", "no pretrained tag 'no-such-tag'"),
    ("ViT-B-32:/missing/weights.safetensors", "does not exist"),
    ("just-a-word", "ARCH:PRETRAINED"),
])
def test_unknown_judge(pytester, judge, fragment):
    # A subprocess: checking a judge name imports open_clip, which cannot be imported twice in one process.
    _usage_error(pytester.runpytest_subprocess(f"--judge={judge}"), fragment)


def test_ini_settings_are_read_and_validated(pytester):
    pytester.makeini("[pytest]\ngrounding_seeds = 0\n")
    _usage_error(pytester.runpytest(), "grounding_seeds", "must be at least 1")
    pytester.makeini("[pytest]\ngrounding_model = /nonexistent/model\n")
    _usage_error(pytester.runpytest(), "/nonexistent/model", "no such file")


def test_settings_fixture_prefers_flags_over_ini(pytester):
    pytester.makeini("[pytest]\ngrounding_seeds = 3\ngrounding_round = from-ini\n")
    pytester.makepyfile("""
        def test_settings(grounding_settings):
            assert grounding_settings.seeds == 3
            assert grounding_settings.round == "from-flag"
            assert grounding_settings.min_pass_rate == 0.75
    """)
    assert pytester.runpytest("--round=from-flag").ret == 0


def test_bad_case_file_in_a_suite_reads_as_a_message(pytester):
    pytester.makefile(".toml", cases='modality = "text-to-image"\n')
    pytester.makepyfile("""
        from grounding.inputs._cases import load_cases
        CASES = load_cases("cases.toml")
        def test_x():
            pass
    """)
    _usage_error(pytester.runpytest(), "it holds no [[case]] tables")
    assert "grounding.errors" not in pytester.runpytest().stderr.str()


def test_plugin_imports_without_torch():
    import subprocess
    import sys

    code = "import sys, grounding.plugin; sys.exit('torch' in sys.modules or 'diffusers' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


GROUNDING_TEST = """
    import pytest
    pytestmark = pytest.mark.grounding("text-to-image")
    def test_would_run():
        open("ran", "w").close()
"""


@pytest.mark.parametrize("damage, fragment", [
    (lambda db: db.write_bytes(b"\x00" * 4096), "the result store there is damaged"),
    (lambda db: db.write_bytes(db.read_bytes()[:2000]), "the result store there is damaged"),
    ("ALTER TABLE records DROP COLUMN explanation", "missing explanation"),
    ("PRAGMA user_version = 9", "written by a newer grounding"),
])
@pytest.mark.parametrize("option", ["--grounding-store", "--baseline"])
def test_a_damaged_store_or_baseline_stops_the_session_before_any_test(pytester, tmp_path, damage, fragment, option):
    import sqlite3

    from grounding.results.store import Store

    damaged, fine = tmp_path / "damaged", tmp_path / "fine"
    for root in (damaged, fine):
        Store(root).append_run(run_id="run-1", round="0", model="m", started=1.0, settings={}, records=[])
    file = damaged / "grounding.sqlite"
    if callable(damage):
        damage(file)
    else:
        with sqlite3.connect(file) as db:
            db.execute(damage)
    before = file.read_bytes()
    pytester.makepyfile(GROUNDING_TEST)
    flags = ([f"--grounding-store={damaged}"] if option == "--grounding-store"
             else [f"--grounding-store={fine}", f"--baseline={damaged}"])
    result = pytester.runpytest(*flags)
    _usage_error(result, f"{option} {damaged}", fragment)
    assert not (pytester.path / "ran").exists() and file.read_bytes() == before


def test_unrelated_test_sessions_never_open_a_store(pytester, tmp_path):
    pytester.makepyfile("def test_plain():\n    pass\n")
    assert pytester.runpytest(f"--grounding-store={tmp_path / 'store'}").ret == 0
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("flag", ["--clip-tolerance", "--tolerance", "--confidence", "--min-pass-rate"])
@pytest.mark.parametrize("value", ["nan", "inf", "-0.5", "x"])
def test_thresholds_must_be_finite_numbers_in_range(pytester, flag, value):
    _usage_error(pytester.runpytest(f"{flag}={value}"), f"{flag} '{value}'")


@pytest.mark.parametrize("flag, value, fragment", [("--floor-rule", "median", "must be one of test, point"),
                                                   ("--profile", "quick", "must be one of default, thorough"),
                                                   ("--seed-start", "-1", "at least 0"),
                                                   ("--seed-start", "x", "--seed-start 'x'")])
def test_verdict_options_are_checked(pytester, flag, value, fragment):
    _usage_error(pytester.runpytest(f"{flag}={value}"), fragment)


def test_a_profile_sets_defaults_that_flags_and_ini_override(pytester):
    pytester.makepyfile("""
        def test_settings(grounding_settings):
            s = grounding_settings
            print("SETTINGS", s.profile, s.seeds, s.concept_tolerance, s.seed_range, s.case_folder, s.floor_rule)
    """)
    pytester.makeini("[pytest]\ngrounding_seed_start = 7\n")
    thorough = pytester.runpytest("-s", "--profile=thorough").stdout.str()
    assert "SETTINGS thorough 8 0.02 range(7, 15) thorough test" in thorough
    overridden = pytester.runpytest("-s", "--profile=thorough", "--seeds=2", "--floor-rule=point").stdout.str()
    assert "SETTINGS thorough 2 0.02 range(7, 9) thorough point" in overridden
    assert "SETTINGS default 4 0.05 range(7, 11) None test" in pytester.runpytest("-s").stdout.str()


UNDECIDED_CONFTEST = """
    import pytest

    from grounding.plugin import suite_cases
    from grounding.running._orchestrator import modality_results
    from grounding.types import Record

    @pytest.fixture(scope="module")
    def grounding_suite(request, grounding_settings):
        '''A language model's results without the model: OUTCOMES in the module gives each case's verdict per seed
        and whether every seed gave the one same output (greedy decoding).'''
        cases = suite_cases(grounding_settings, request.node.get_closest_marker("grounding"), request.path)
        records = []
        for case in cases:
            greedy, verdicts = request.module.OUTCOMES.get(case.id, request.module.OUTCOMES["*"])
            for seed, ok in enumerate(verdicts):
                artifact = f"{case.id}.txt" if greedy else f"{case.id}-{seed}.txt"
                records.append(Record("run", "0", "h", "ascii-art", case.id, seed, "oracle", "correct", float(ok), ok,
                                      artifact, "oracle: saw a square" if ok else "oracle: saw nothing"))
        return modality_results({c.id: c for c in cases}, records, None, grounding_settings)
"""


def _ascii_cases(pytester, ids):
    pytester.makefile(".toml", cases='modality = "ascii-art"\n' + "".join(
        f'[[case]]\nid = "{i}"\ncategory = "shape"\ninstruction = "Draw a small outlined square in ASCII art."\n'
        f'expect = {{ shape = "square", size = "small", style = "outlined" }}\n' for i in ids))
    pytester.makeconftest(UNDECIDED_CONFTEST)


SUITE_MODULE = """
    import pytest

    from grounding.suite import (test_instruction_is_grounded, test_no_significant_regression,
                                 test_pass_rate_of_all_cases_is_above_the_floor)

    pytestmark = pytest.mark.grounding("ascii-art", cases="cases.toml")
    OUTCOMES = {outcomes}
"""


def test_a_case_one_output_cannot_decide_is_skipped_with_its_outcome_never_passed(pytester):
    """Greedy decoding: four seeds, one output. Before, each such case passed (one output can never be significantly
    below the floor); now it is skipped with what it observed and why, in the terminal and in JUnit, and a case with
    four distinct outputs still passes."""
    import xml.etree.ElementTree as ET

    _ascii_cases(pytester, ["wrong", "right", "varied"])
    pytester.makepyfile(test_suite=SUITE_MODULE.format(outcomes={
        "wrong": (True, [False] * 4), "right": (True, [True] * 4), "varied": (False, [True] * 4), "*": (False, [])}))
    result = pytester.runpytest("-rs", "--junitxml=junit.xml")
    result.assert_outcomes(passed=2, skipped=3)  # varied and the pooled floor pass; regression: no --baseline
    skipped = {case.get("name"): case.find("skipped").get("message")
               for case in ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")
               if case.find("skipped") is not None}
    assert set(skipped) == {"test_instruction_is_grounded[wrong]", "test_instruction_is_grounded[right]",
                            "test_no_significant_regression"}
    wrong, right = skipped["test_instruction_is_grounded[wrong]"], skipped["test_instruction_is_grounded[right]"]
    assert "undecidable alone: 1 distinct output of 4 seeds, failed (0/1)" in wrong
    assert "undecidable alone: 1 distinct output of 4 seeds, passed (1/1)" in right
    for message in (wrong, right):
        assert "it takes 3 distinct outputs, all failing, to be significantly below the floor 0.75 at level 0.05" \
            in message and "counted in the pooled floor" in message
    assert "failed (0/1)" in result.stdout.str()  # -rs shows the reason on the terminal


def test_a_greedy_model_that_got_everything_wrong_shows_no_green_case(pytester):
    """The issue's random chat model: every case one wrong output. Before: 16 cases passed and only the pooled floor
    failed; now no case passes and the pooled floor still fails."""
    _ascii_cases(pytester, [f"case-{i}" for i in range(16)])
    pytester.makepyfile(test_suite=SUITE_MODULE.format(outcomes={"*": (True, [False] * 4)}))
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=0, failed=1, skipped=17)
    assert "all cases of the modality: pass rate 0.00 (0/16) over 16 distinct outputs of 64 outputs" in \
        result.stdout.str()


def test_a_baseline_with_nothing_of_a_modality_is_a_usage_error_before_generating(pytester, tmp_path):
    """The issue's `--baseline 0` that named another model's run holding no text-to-image record: before, the
    comparison paired nothing ("0 of 0 slices", "240 outputs had no partner") and test_no_significant_regression
    passed. Now the session stops (exit 4) before anything is generated, naming both runs and the modality."""
    from grounding.results.store import Store
    from grounding.types import Record

    store = Store(tmp_path / "store")
    store.append_run(run_id="run-lm", round="0", model="ckpt/shapes-lm", started=1.0, settings={}, records=[
        Record("run-lm", "0", "h", "ascii-art", "square", 0, "oracle", "correct", 1.0, True, "a.txt")])
    store.close()
    pytester.makefile(".toml", cases='modality = "text-to-image"\n[[case]]\nid = "red"\ncategory = "attribute"\n'
                                       'instruction = "a red circle"\ncontrasts = ["a blue circle"]\n')
    pytester.makepyfile("""
        import pytest

        from grounding.suite import test_no_significant_regression

        pytestmark = pytest.mark.grounding("text-to-image", cases="cases.toml")

        def test_would_run(grounding_suite):
            open("ran", "w").close()
    """)
    result = pytester.runpytest(f"--grounding-store={tmp_path / 'store'}", "--baseline=0", "--round=1", "--seeds=1")
    _usage_error(result, "--baseline 0: it names run run-lm (round '0', model ckpt/shapes-lm), which holds no "
                         "text-to-image output", f"this run (round '1', model {BUNDLED})", "ascii-art")
    assert not (pytester.path / "ran").exists()
    artifacts = tmp_path / "store" / "artifacts"
    assert not artifacts.exists() or not list(artifacts.rglob("*.png"))
