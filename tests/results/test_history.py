"""`grounding history`: a store's runs round by round, as a table and as JSON."""

import json

from grounding.cli import main
from grounding.results._history import history
from grounding.results.store import Store
from grounding.types import Record


def _store(tmp_path):
    store = Store(tmp_path)
    for i, (label, ok) in enumerate((("0", [True, True, True, True]), ("1", [True, False, False, False]))):
        records = [Record(f"run-{label}", label, "h", "text-to-image", case, seed, "oracle", "correct", float(p), p, "x")
                   for case, p in zip(("a", "a", "b", "b"), ok) for seed in [0 if case == "a" else 1]]
        records += [Record(f"run-{label}", label, "h", "text-to-image", "a", 0, "clip", "clip_score", 2.0 - i, None, "x")]
        records += [Record(f"run-{label}", label, "h", "code", "c", 0, "self-description", "false_assurance",
                           float(i), not i, "x")]
        store.append_run(run_id=f"run-{label}", round=label, model="h", started=100.0 + i, settings={},
                         records=records)
    store.close()
    return tmp_path


def test_history_has_a_row_per_run_and_modality_with_its_metrics(tmp_path):
    rows = history(_store(tmp_path))
    assert [(r.round, r.modality) for r in rows] == [("0", "code"), ("0", "text-to-image"), ("1", "code"),
                                                     ("1", "text-to-image")]
    t2i = [r for r in rows if r.modality == "text-to-image"]
    assert [r.metrics["oracle_accuracy"] for r in t2i] == [1.0, 0.25]
    assert [r.metrics["clip_score"] for r in t2i] == [2.0, 1.0]
    assert [r.metrics["false_assurance"] for r in rows if r.modality == "code"] == [0.0, 1.0]


def test_history_cli_prints_a_table_and_json(tmp_path, capsys):
    root = _store(tmp_path)
    assert main(["history", "--store", str(root)]) == 0
    table = capsys.readouterr().out
    assert "text-to-image:" in table and "oracle_accuracy" in table and "run-1" in table
    assert main(["history", "--store", str(root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4 and rows[-1]["metrics"]["pass_rate"] == 0.0


def test_history_of_a_missing_store_is_a_usage_error(tmp_path, capsys):
    assert main(["history", "--store", str(tmp_path / "nope")]) == 2
    assert "no grounding.sqlite there" in capsys.readouterr().err
    assert not (tmp_path / "nope").exists()  # nothing created by looking
