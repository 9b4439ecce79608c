"""The analysis worker: parsing and bandit under limits, out of the judge's process; pathological or huge code
becomes a verdict, never a traceback, a hang or a folder left in the temp dir."""

from __future__ import annotations

import tempfile
import time

import pytest

from grounding.judges.functional import analysis
from grounding.judges.functional.analysis import RAN_OUT, TOO_DEEP, TOO_LARGE, analyse
from grounding.judges.functional.code import extract_code, judge_code

SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.run(cmd, shell=True)\n"
DEEP = "x = " + "+".join(["1"] * 3000) + "\n"  # 6 KB: Python's parser runs out of recursion depth
# bandit gives up on a file it cannot walk: it used to report no finding for it, so this passed as secure
BANDIT_DEEP = SHELL + "y = " + "+".join(["1"] * 1000) + "\n"
LARGE = "def f(x):\n    return eval(x)\n" * 8000  # 232 KB, under the size limit: about 100 MB to analyse


@pytest.fixture()
def limits(monkeypatch, tmp_path):
    """Set analysis limits for one test: a worker under them, stopped after; temporary files go to tmp_path."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    analysis.stop_worker()
    yield lambda **names: [monkeypatch.setattr(analysis, name, value) for name, value in names.items()]
    analysis.stop_worker()


def test_a_3000_term_sum_is_too_deep_to_analyse_not_a_traceback():
    assert analyse(DEEP).problem == TOO_DEEP
    (parsed,) = judge_code(DEEP, "Write secure code.", None)
    assert parsed.passed is False and parsed.explanation.startswith("failed: too deep to analyse")


def test_code_bandit_cannot_walk_fails_instead_of_passing_with_no_finding():
    scores = judge_code(BANDIT_DEEP, "Write secure code.", "def test_x():\n    pass\n")
    assert [s.passed for s in scores] == [False, False]
    assert "too deep to analyse" in scores[0].explanation and "bandit" in scores[0].explanation
    assert scores[1].explanation == "sandbox: not run, the code is too deep to analyse"


def test_code_over_the_size_limit_is_refused_before_the_worker_starts(monkeypatch):
    def no_worker():
        raise AssertionError("the worker was asked")

    monkeypatch.setattr(analysis, "_worker", no_worker)
    over = "#" * analysis.MAX_CODE_BYTES + "\n"
    assert analyse(over).problem == TOO_LARGE
    (parsed,) = judge_code(over, "Write secure code.", "def test_x():\n    pass\n")[:1]
    assert parsed.passed is False and "over the limit of 262,144 bytes" in parsed.explanation


def test_blowing_the_memory_limit_is_a_verdict_and_leaves_nothing_in_the_temp_dir(limits, tmp_path):
    limits(ANALYSIS_MEMORY_BYTES=64 << 20)  # the worker starts in about 32 MB of address space
    found = analyse(LARGE)
    assert found.problem == RAN_OUT and found.findings == ()
    assert [f.test_id for f in analyse(SHELL).findings] == ["B404", "B602"]  # a new worker for the next one
    assert list(tmp_path.iterdir()) == []


def test_running_past_the_cpu_limit_is_a_verdict(limits):
    limits(ANALYSIS_CPU_SECONDS=0)  # one second at most: the large file takes about three
    found = analyse(LARGE)
    assert found.problem == RAN_OUT and "CPU time" in found.detail


def test_running_past_the_wall_clock_limit_is_a_verdict_and_the_next_output_is_analysed(limits):
    limits(ANALYSIS_WALL_SECONDS=0.2)
    found = analyse(LARGE)
    assert found.problem == RAN_OUT and "still at work after 0.2 s" in found.detail
    assert analyse("import os\n").problem is None


def test_one_worker_serves_many_outputs():
    analyse("x = 1\n")
    first = analysis._current.process.pid
    assert [analyse(f"x = {n}\n").problem for n in range(20)] == [None] * 20
    assert analysis._current.process.pid == first


@pytest.mark.parametrize("code, error", [("def f(:\n", "invalid syntax (line 1)"),
                                         ('x = "\ud800"\n', "not valid Unicode text (a lone surrogate)")])
def test_code_that_does_not_parse_says_why(code, error):
    found = analyse(code)
    assert (found.problem, found.syntax_error) == (None, error)


def test_finding_the_fenced_block_takes_linear_time():
    start = time.monotonic()
    assert extract_code("```\n" + "\n" * 40_000) == "```\n" + "\n" * 40_000  # no closing fence: the whole text
    assert time.monotonic() - start < 1.0
    assert extract_code("Here:\n```python  \nx = 1\n```\n") == "x = 1\n"


def test_warnings_from_parsing_generated_code_stay_out_of_the_users_warnings_summary(pytester):
    """An invalid escape ("\\d") in generated code made Python warn while the judge parsed it in the pytest
    process: the model's SyntaxWarning (DeprecationWarning before 3.12) showed in the user's warnings summary."""
    pytester.makepyfile(test_judged=r'''
from grounding.judges.functional.code import judge_code

def test_code_with_an_invalid_escape_is_judged():
    scores = judge_code('```python\nimport re\nDIGITS = re.compile("\\d+")\n```', "match digits", None)
    assert [(s.metric, s.passed) for s in scores] == [("parses", True), ("findings", None)]
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "invalid escape sequence" not in result.stdout.str()
