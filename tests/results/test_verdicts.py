import pytest

from grounding.results import compare
from grounding.results._floors import floor_tests
from grounding.types import Case, Record
from grounding.results._verdicts import case_observations, case_verdict

CASE = Case("red", "text-to-image", "a red circle", ("a blue circle",))


def _records(outcomes, clip=1.0):
    rows = []
    for seed, ok in enumerate(outcomes):
        rows.append(Record("r", "0", "h", "text-to-image", "red", seed, "clip", "clip_score", clip, None, f"{seed}.png"))
        rows.append(Record("r", "0", "h", "text-to-image", "red", seed, "clip", "r_precision", float(ok), ok,
                           f"{seed}.png", "instruction outranked" if ok else "contrast 'a blue circle' won"))
        rows.append(Record("r", "0", "h", "text-to-image", "red", seed, "oracle", "correct", 1.0, True, f"{seed}.png",
                           "saw small red circle (left)"))
    return rows


def _verdict(records, baseline=None, rule="point"):
    change = None if baseline is None else compare("text-to-image", records, baseline, {CASE.id: CASE}).case(CASE.id)
    floor = floor_tests({CASE.id: case_observations(records)}, 0.75, rule=rule).cases[CASE.id]
    return case_verdict(CASE, records, floor=floor, change=change)


def test_pass_rate_interval_and_verdict():
    verdict = _verdict(_records([True, True, True, False]))
    assert verdict.pass_rate == 0.75 and verdict.passed
    assert verdict.interval[0] == pytest.approx(0.194, abs=1e-3) and verdict.interval[1] == pytest.approx(0.994, abs=1e-3)


def test_failure_message_names_instruction_scores_winner_and_artifacts():
    verdict = _verdict(_records([True, False, False, False], clip=0.4))
    assert not verdict.passed
    message = verdict.message()
    for text in ("'a red circle'", "pass rate 0.25 (1/4) over 4 seeds", "CLIPScore 0.400",
                 "contrast 'a blue circle' won", "1.png", "pass rate below the floor --min-pass-rate 0.75"):
        assert text in message
    # the default rule asks for significance: one pass in 4 seeds is not significantly below 0.75 (p=0.051) ...
    assert _verdict(_records([True, False, False, False]), rule="test").passed
    # ... none in 8 is (p=0.25^8), and the message gives the test
    tested = _verdict(_records([False] * 8), rule="test")
    assert not tested.passed and "one-sided exact binomial p=1.53e-05" in tested.message()


def test_baseline_fall_fails_above_the_minimum_only_when_significant_and_beyond_tolerance():
    healthy = _records([True] * 8, clip=1.0)
    assert _verdict(_records([True] * 8, clip=0.95), baseline=healthy).passed  # within tolerance
    fell = _verdict(_records([True] * 6 + [False] * 2, clip=0.8), baseline=healthy)
    assert fell.passed is False and fell.pass_rate == 0.75
    assert [p.split(" below")[0] for p in fell.problems] == ["CLIPScore fell 0.200"]  # 2 lost seeds: p=0.25
    assert fell.change.before == 1.0 and "against the baseline: pass rate 1.00 -> 0.75" in fell.message()
    noisy = _verdict(_records([True] * 4, clip=0.8), baseline=_records([True] * 4, clip=1.0))
    assert noisy.passed and noisy.change.clip_p_value == 1 / 16  # 4 seeds cannot make a fall significant


def test_failure_message_quotes_a_judges_reading_of_an_output_without_its_escapes():
    """A judge's explanation can quote what the model wrote; pytest prints the message on a terminal."""
    from dataclasses import replace

    records = [replace(r, explanation="saw \x1b]0;owned\x07\x1b[2Kred\x9b1m") if r.judge == "oracle" else r
               for r in _records([False, False, False, False])]
    message = _verdict(records).message()
    assert "saw red" in message and "owned" not in message
    assert not any(c in message for c in "\x1b\x07\x9b") and "\n" in message


@pytest.mark.parametrize("under_cwd", [True, False])
def test_failure_message_gives_artifact_paths_that_open_from_the_current_directory(tmp_path, monkeypatch, under_cwd):
    """Records keep artifacts relative to the store (artifacts/ab/<sha>.txt); the message printed them so, and
    they opened only from inside the store. Now: the store's folder joined, relative to the current directory
    when the store lies under it, else absolute; a text output is quoted from there."""
    from pathlib import Path

    ref = f"artifacts/ab/ab{'0' * 62}.txt"
    store = tmp_path / "store"
    (store / ref).parent.mkdir(parents=True)
    (store / ref).write_text("SQUARE DRAWN HERE\n")
    cwd = tmp_path if under_cwd else tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    monkeypatch.chdir(cwd)
    records = [Record("r", "0", "h", "ascii-art", "red", seed, "oracle", "correct", 0.0, False, ref, "saw nothing")
               for seed in range(4)]
    floor = floor_tests({CASE.id: case_observations(records)}, 0.75, rule="point").cases[CASE.id]
    message = case_verdict(CASE, records, floor=floor, store=store).message()
    shown = {line.strip() for line in message.splitlines() if line.strip().endswith(".txt")}
    assert shown == {f"store/{ref}" if under_cwd else str(store / ref)}
    assert all(Path(path).is_file() for path in shown)
    assert "| SQUARE DRAWN HERE" in message  # the output, read from where it lies
