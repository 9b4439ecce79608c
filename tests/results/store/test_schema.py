"""A store written by the previous version of grounding, committed as test data, is upgraded, read and compared
against. (Apart from tests/results/store/test_store.py, which also runs as an unprivileged user against the store
package alone.)"""

import shutil
import sqlite3
from pathlib import Path

import pytest

import grounding
from grounding.inputs._checkpoint import BUNDLED
from grounding.results.store import SCHEMA_VERSION, Store


@pytest.mark.e2e
@pytest.mark.slow
def test_a_store_from_the_previous_version_is_upgraded_read_and_compared_against(tmp_path):
    """tests/data/store-v1 was written by grounding at schema 1 (commit d16257e): gate() on the bundled
    text-to-image model, two cases (tests/data/store-v1-cases.toml) x 2 seeds, round "release-1"."""
    data = Path(__file__).parents[2] / "data"
    store = shutil.copytree(data / "store-v1", tmp_path / "store")
    database = store / "grounding.sqlite"
    assert sqlite3.connect(database).execute("PRAGMA user_version").fetchone()[0] == 1
    old = Store(store, writable=False)
    (run,) = old.runs()
    records = old.records(run["run_id"])
    assert run["round"] == "release-1" and len(records) > 8
    controls = [r for r in records if r.is_control]
    assert controls and all(r.judge == "clip-control" and r.kind == "control" for r in controls)
    assert all(len(r.sha256) == 64 and r.artifact.endswith(r.sha256 + ".png") for r in records if not r.is_control)
    old.close()
    verdict = grounding.gate(BUNDLED / "shapes-t2i", baseline="release-1", round="release-2", store=store,
                             cases={"text-to-image": data / "store-v1-cases.toml"}, seeds=2)
    assert sqlite3.connect(database).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    comparison = verdict.results["text-to-image"].comparison
    assert verdict.passed and comparison is not None and not comparison.regressions
    upgraded = Store(store, writable=False)
    assert [r["round"] for r in upgraded.runs()] == ["release-1", "release-2"]
    migrated = upgraded.records(run["run_id"])
    assert [(r.kind, r.sha256) for r in migrated] == [(r.kind, r.sha256) for r in records]
    fresh = upgraded.records(upgraded.runs()[1]["run_id"])
    assert {r.sha256 for r in fresh if not r.is_control} == {r.sha256 for r in records if not r.is_control}
    generation = upgraded.runs()[1]["settings"]["generation"]["text-to-image"]
    assert generation["from_cache"] == generation["artifacts"] == 4  # the old run's outputs, found again
    upgraded.close()
