import json
import random

import pytest

from grounding.cli import main
from grounding.shapes_world import Spec, Thing, render


@pytest.fixture()
def red_circle_png(tmp_path):
    path = tmp_path / "red.png"
    render(Spec((Thing("red", "circle", "large"),)), random.Random(0)).save(path)
    return path


def _run(capsys, *argv):
    code = main(["judge", "image", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_judge_image_prints_json_verdicts(capsys, red_circle_png):
    code, out, _ = _run(capsys, "--instruction", "a red circle", "--contrast", "a blue circle", "--contrast",
                        "a red square", "--expect", '{"things": [{"colour": "red", "shape": "circle"}]}',
                        str(red_circle_png))
    (result,) = json.loads(out)
    assert code == 0 and result["passed"] is True
    assert result["verdicts"]["clip"]["r_precision_pass"] is True
    assert 0 < result["verdicts"]["clip"]["clip_score"] <= 2.5
    assert result["verdicts"]["oracle"]["reading"] == "large red circle (left)" or \
        result["verdicts"]["oracle"]["reading"].startswith("large red circle")


def test_wrong_instruction_fails_and_names_the_winning_contrast(capsys, red_circle_png):
    code, out, _ = _run(capsys, "--instruction", "a blue circle", "--contrast", "a red circle", str(red_circle_png))
    (result,) = json.loads(out)
    assert code == 1 and result["passed"] is False
    assert result["verdicts"]["clip"]["winner"] == "a red circle"


def test_unreadable_file_is_a_usage_error(capsys, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    code, out, err = _run(capsys, "--instruction", "a red circle", str(bad))
    assert code == 2 and out == "" and "cannot read it as an image" in err and "Traceback" not in err


def test_bad_expectation_is_a_usage_error(capsys, red_circle_png):
    code, _, err = _run(capsys, "--instruction", "a red circle", "--expect", "[1, 2]", str(red_circle_png))
    assert code == 2 and "--expect" in err


@pytest.mark.parametrize("expect, fragment", [
    ('{"things": 5}', "`things` must be a non-empty list of tables, not int"),
    ('{"things": [{"colour": "red"}]}', "item 1: lacks shape"),
    ('{"count": 2}', "`things` is missing"),
    ("{nope", "not JSON"),
])
def test_an_expectation_the_oracle_cannot_read_is_a_usage_error(capsys, red_circle_png, expect, fragment):
    code, out, err = _run(capsys, "--instruction", "a red circle", "--expect", expect, str(red_circle_png))
    assert code == 2 and out == "" and fragment in err and "Traceback" not in err


def test_an_image_too_large_to_decode_is_refused_from_its_header(capsys, tmp_path):
    from PIL import Image

    huge = tmp_path / "huge.png"
    Image.new("1", (20000, 20000)).save(huge)  # 400 megapixels in a small file
    assert huge.stat().st_size < 2_000_000
    code, out, err = _run(capsys, "--instruction", "a red circle", str(huge))
    assert code == 2 and "over 178 megapixels, more than the 40 megapixels" in err and "Traceback" not in err
