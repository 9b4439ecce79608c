"""`pytest suites/ -n 2`: the workers share a modality's generation and judging, and the controller stores one run
whose records and verdicts are those of the same run without xdist."""

import json
import multiprocessing
import sqlite3

import pytest

pytest.importorskip("xdist")

SHAPES = [("red-circle", "a red circle", "red", "circle"), ("blue-square", "a blue square", "blue", "square"),
          ("green-triangle", "a green triangle", "green", "triangle"),
          ("yellow-circle", "a yellow circle", "yellow", "circle"),
          ("purple-square", "a purple square", "purple", "square"),
          ("told-wrong", "a red circle", "blue", "square")]  # asks for one thing, expects another: fails every seed
CONTRASTS = ("a blue square", "a green triangle", "a red circle")
CASES = 'modality = "text-to-image"\n' + "".join(
    f'\n[[case]]\nid = "{name}"\ninstruction = "{instruction}"\n'
    f'contrasts = {json.dumps([c for c in CONTRASTS if c != instruction])}\n'
    f'concepts = ["{colour}", "{shape}"]\n'
    f'expect = {{ things = [{{ colour = "{colour}", shape = "{shape}" }}], count = 1 }}\n'
    for name, instruction, colour, shape in SHAPES)

SUITE = """
import pytest

from grounding.suite import (test_instruction_is_grounded, test_no_significant_regression,  # noqa: F401
                             test_pass_rate_of_all_cases_is_above_the_floor)

pytestmark = pytest.mark.grounding("text-to-image", cases="cases.toml")
"""


def _records(store):
    database = sqlite3.connect(store / "grounding.sqlite")
    try:
        runs = database.execute("SELECT run_id FROM runs").fetchall()
        rows = database.execute("SELECT case_id, seed, judge, metric, value, passed, artifact, explanation "
                                "FROM records ORDER BY case_id, seed, judge, metric, artifact").fetchall()
        return runs, rows
    finally:
        database.close()


def _failed(result):
    return sorted(line for line in result.outlines if line.startswith("FAILED"))


@pytest.mark.e2e
@pytest.mark.slow
def test_two_workers_store_one_run_with_the_verdicts_of_one_process(pytester, tmp_path):
    pytester.makefile(".toml", cases=CASES)
    pytester.makepyfile(test_suite=SUITE)
    common = ["--seeds", "4", "-rf", "-p", "no:cacheprovider"]
    alone = pytester.runpytest_subprocess("--grounding-store", str(tmp_path / "alone"), "-n", "0", *common)
    shared = pytester.runpytest_subprocess("--grounding-store", str(tmp_path / "shared"), "-n", "2", *common)
    outcomes = {k: v for k, v in alone.parseoutcomes().items() if k != "warnings"}
    assert outcomes == {k: v for k, v in shared.parseoutcomes().items() if k != "warnings"}
    assert outcomes["failed"] == 1  # the case told wrong, and only it
    assert _failed(shared) == _failed(alone) and "told-wrong" in _failed(shared)[0]
    runs, rows = _records(tmp_path / "shared")
    expected = _records(tmp_path / "alone")[1]
    assert len(runs) == 1 and len(rows) == len(expected) > 24
    # the same outputs, the same verdicts; CLIP's values agree to float precision (its batches differ by worker)
    assert [(r[:4], r[5], r[6]) for r in rows] == [(r[:4], r[5], r[6]) for r in expected]
    assert all(abs(a[4] - b[4]) < 1e-5 for a, b in zip(rows, expected))
    assert "created: 2/2 workers" in shared.stdout.str()
    assert any(line.startswith("text-to-image: 6 cases") for line in shared.outlines)  # the grounding summary


def _write_scores(root, worker, count):
    from grounding.results.store import Store

    store = Store(root)
    for n in range(count):
        store.remember_scores({f"{worker}-{n}": [{"n": n}]})
        store.remember_generations([(f"{worker}-gen-{n}", *store.write_artifact(f"{worker} {n}".encode(), ".txt"))])
    store.close()


def test_the_store_takes_concurrent_writers_without_losing_a_record(tmp_path):
    from grounding.results.store import Store

    Store(tmp_path).close()
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_scores, args=(tmp_path, worker, 200)) for worker in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    database = sqlite3.connect(tmp_path / "grounding.sqlite")
    assert database.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 600
    assert database.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 600
    database.close()
