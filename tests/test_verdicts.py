import pytest

from grounding.types import Case, Record
from grounding.verdicts import case_verdict

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


def _verdict(records, baseline=None):
    return case_verdict(CASE, records, min_pass_rate=0.75, tolerance=0.25, clip_tolerance=0.1, baseline=baseline)


def test_pass_rate_interval_and_verdict():
    verdict = _verdict(_records([True, True, True, False]))
    assert verdict.pass_rate == 0.75 and verdict.passed
    assert verdict.interval[0] == pytest.approx(0.194, abs=1e-3) and verdict.interval[1] == pytest.approx(0.994, abs=1e-3)


def test_failure_message_names_instruction_scores_winner_and_artifacts():
    verdict = _verdict(_records([True, False, False, False], clip=0.4))
    assert not verdict.passed
    message = verdict.message()
    for text in ("'a red circle'", "pass rate 0.25", "CLIPScore 0.400", "contrast 'a blue circle' won", "1.png",
                 "below the minimum 0.75"):
        assert text in message


def test_baseline_fall_beyond_tolerance_fails_even_above_the_minimum():
    healthy = _records([True] * 4, clip=1.0)
    assert _verdict(_records([True] * 4, clip=0.95), baseline=healthy).passed
    fell = _verdict(_records([True, True, True, False], clip=0.8), baseline=healthy)
    assert fell.passed is False and any("CLIPScore fell 0.200" in p for p in fell.problems)
    assert fell.baseline_pass_rate == 1.0
