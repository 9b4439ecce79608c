import sqlite3

import pytest

from grounding.store import Store
from grounding.types import Record


def _record(run_id, case="c1", seed=0, value=1.0):
    return Record(run_id, "r0", "hash", "text-to-image", case, seed, "clip", "r_precision", value, value > 0.5, "a.png")


def test_runs_and_records_round_trip(tmp_path):
    store = Store(tmp_path)
    store.append_run(run_id="run-1", round="0", model="m", started=1.0, settings={"seeds": 2},
                     records=[_record("run-1"), _record("run-1", seed=1, value=0.0)])
    store.append_run(run_id="run-2", round="1", model="m", started=2.0, settings={}, records=[_record("run-2")])
    assert [r["run_id"] for r in store.runs()] == ["run-1", "run-2"]
    assert store.find_run("0") == "run-1" and store.find_run("run-2") == "run-2" and store.find_run("9") is None
    records = store.records("run-1")
    assert [(r.seed, r.passed) for r in records] == [(0, True), (1, False)]


def test_a_failed_append_leaves_the_store_as_it_was(tmp_path):
    store = Store(tmp_path)
    store.append_run(run_id="run-1", round="0", model="m", started=1.0, settings={}, records=[_record("run-1")])
    bad = Record("run-2", "1", "h", "m", "c", 0, "clip", "x", None, None, "a.png")  # value NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        store.append_run(run_id="run-2", round="1", model="m", started=2.0, settings={},
                         records=[_record("run-2"), bad])
    assert [r["run_id"] for r in store.runs()] == ["run-1"]
    assert store.records("run-2") == []


def test_artifacts_are_content_addressed_and_cache_entries_verified(tmp_path):
    store = Store(tmp_path)
    path, sha = store.write_artifact(b"png bytes", ".png")
    assert path.name == f"{sha}.png" and path.read_bytes() == b"png bytes"
    assert store.write_artifact(b"png bytes", ".png") == (path, sha)
    store.remember_generations([("key", path, sha)])
    assert store.cached_generation("key") == (path, sha)
    path.write_bytes(b"tampered")
    assert store.cached_generation("key") is None
    assert store.cached_generation("unknown") is None


def test_unwritable_store_is_a_usage_error(tmp_path):
    from grounding.errors import GroundingUsageError

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(GroundingUsageError, match="cannot open the result store"):
        Store(blocker / "store")
