"""Every place outside input enters, fuzzed: case files, grounding.toml, --expect and a store's rows. Each either
gives values its consumers can use or one GroundingUsageError paragraph; never a traceback."""

import json
import math
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from grounding.errors import GroundingUsageError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODALITIES = ["text-to-image", "ascii-art", "code", "audio"]
EXPECT_KEYS = ["things", "count", "side", "colour", "shape", "size", "style", "scene", "tests", "severity", "setup",
               "skip_tests", "sandbox", "subprocess"]
WORDS = ["red", "circle", "large", "small", "left", "outlined", "filled", "house", "medium", "high", "def test_x(): pass",
         "square", "purple", "triangle", "smiley face", ""]

names = st.one_of(st.sampled_from(EXPECT_KEYS + ["id", "instruction", "contrasts", "category", "concepts", "expect"]),
                  st.text(min_size=1, max_size=6))
scalars = st.one_of(st.sampled_from(WORDS), st.text(max_size=12), st.integers(-5, 5), st.booleans(),
                    st.floats(allow_nan=True, allow_infinity=True))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(names, inner, max_size=4)), max_leaves=12)


def _toml(value) -> str:
    """A TOML inline value (the tests' own writer: tomllib only reads)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}" for k, v in value.items()) + "}"


case_tables = st.dictionaries(names, values, max_size=7) | st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", 1]) | st.text(max_size=3), "instruction": st.sampled_from(WORDS) | values},
    optional={"contrasts": values, "concepts": values, "category": values,
              "expect": st.dictionaries(st.sampled_from(EXPECT_KEYS), values, max_size=4)})


@FUZZ
@given(modality=st.sampled_from(MODALITIES) | values, tables=st.lists(case_tables, max_size=4))
def test_case_files(modality, tables):
    from grounding.judges.functional.ascii_art import spec_for
    from grounding.inputs._cases import load_cases
    from grounding.judges.functional.code import sandbox_options
    from grounding.shapes_world import spec_from_dict

    text = f"modality = {_toml(modality)}\n" + "".join(
        "[[case]]\n" + "".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}\n" for k, v in table.items())
        for table in tables)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.toml"
        path.write_text(text, encoding="utf-8")
        try:
            cases = load_cases(path)
        except GroundingUsageError as err:
            assert "\n" not in str(err) and str(path) in str(err)
            return
    assert len({c.id for c in cases}) == len(cases) == len(tables)
    for case in cases:  # what was accepted, the judges can use
        assert isinstance(case.id, str) and all(isinstance(c, str) for c in (*case.contrasts, *case.concepts))
        if case.modality == "text-to-image" and case.expect.get("things"):
            spec_from_dict(case.expect)
        elif case.modality == "ascii-art":
            spec_for(case.instruction, case.expect)
        elif case.modality == "code":
            sandbox_options(case.expect)


@FUZZ
@given(manifest=st.dictionaries(st.sampled_from(["modalities", "world"]) | st.text(min_size=1, max_size=5),
                                values | st.dictionaries(st.sampled_from(MODALITIES), values, max_size=2), max_size=3))
def test_grounding_toml(manifest):
    from grounding.inputs._checkpoint import resolve

    text = "".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}\n" for k, v in manifest.items())
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "grounding.toml").write_text(text, encoding="utf-8")
        try:
            found = resolve(folder)
        except GroundingUsageError as err:
            assert "\n" not in str(err)
            return
    assert all(isinstance(c.modality, str) and isinstance(dict(c.settings), dict) for c in found)


@FUZZ
@given(expect=st.dictionaries(st.sampled_from(EXPECT_KEYS), values, max_size=4) | values,
       modality=st.sampled_from(["text-to-image", "ascii-art"]))
def test_expect_option(expect, modality):
    from PIL import Image

    from grounding.judges.functional.ascii_art import judge_ascii, spec_for
    from grounding.cli._judge import _expect
    from grounding.judges.functional import shapes_oracle

    try:
        parsed = _expect(json.dumps(expect), modality, "{}", required="things" if modality == "text-to-image" else None)
    except GroundingUsageError as err:
        assert str(err).startswith("--expect ") and "\n" not in str(err)
        return
    if modality == "text-to-image":
        shapes_oracle.score_image(Image.new("RGB", (32, 32), "white"), parsed)
    else:
        judge_ascii("#####\n#   #\n#####\n", spec_for("Draw a square.", parsed))


def _stored_run(root: Path) -> None:
    from grounding.results.store import Store
    from grounding.types import Case, Record

    store = Store(root)
    path, _ = store.write_artifact(b"##\n##\n", ".txt")
    case = Case("c", "ascii-art", "Draw a small filled square.", ("a circle",), "shape", ("square",),
                {"shape": "square"})
    for run in ("run-0", "run-1"):
        store.append_run(run_id=run, round=run[-1], model="m", started=float(run[-1]),
                         settings={"baseline": None, "thresholds": {"tolerance": 0.25},
                                   "generation": {"ascii-art": {"artifacts": 1, "from_cache": 0}}},
                         records=[Record(run, run[-1], "h", "ascii-art", "c", 0, "oracle", "correct", 1.0, True,
                                         str(path), "ok")], cases=[case])
    store.close()


COLUMNS = [("runs", c) for c in ("run_id", "round", "model", "started", "finished", "settings")] + \
          [("records", c) for c in ("run_id", "round", "modality", "case_id", "seed", "judge", "metric", "value",
                                    "passed", "artifact", "explanation")] + \
          [("cases", c) for c in ("modality", "case_id", "data")]
sqlite_values = st.one_of(st.none(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False), st.text(max_size=30),
                          st.binary(max_size=10), values.map(json.dumps),
                          st.sampled_from(["{}", "[]", '{"thresholds": {"x": 1}}', '{"generation": {"a": 1}}',
                                           '{"instruction": "x", "contrasts": "ab", "category": "", "concepts": [],'
                                           ' "expect": {}}', "../../etc/passwd", "/etc/passwd", "run-0"]))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("pristine")
    _stored_run(root)
    return root


@settings(FUZZ, max_examples=60)
@given(column=st.sampled_from(COLUMNS), value=sqlite_values)
def test_stored_rows(pristine, column, value):
    import shutil

    from grounding.cli import main

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "store"
        shutil.copytree(pristine, root)
        table, name = column
        try:
            with sqlite3.connect(root / "grounding.sqlite") as db:
                db.execute(f"UPDATE {table} SET {name} = ? WHERE rowid = 1", (value,))
        except sqlite3.IntegrityError:  # NOT NULL and key constraints hold in SQLite itself
            assume(False)
        html = Path(folder) / "report.html"
        for args in (["history", "--store", str(root)], ["report", "--store", str(root), "--html", str(html)],
                     ["store", "check", "--store", str(root)]):
            assert main(args) in (0, 1, 2), args
