"""The store's tables, the version it writes, and the checks and migrations run when a store is opened.

A store folder holds grounding.sqlite (runs, records, cases, embeddings, the generation cache) and artifacts/
named by content hash. `PRAGMA user_version` says which schema wrote the database: 0 is a store from before
versions were written (same columns, artifact paths stored as absolute paths), 1 added nothing else, 2 (this
one) adds the score cache (`scores`) and the adapters' settings by load key (`adapters`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import GroundingUsageError

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, round TEXT NOT NULL, model TEXT NOT NULL, started REAL NOT NULL,
    finished REAL NOT NULL, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    run_id TEXT NOT NULL REFERENCES runs(run_id), round TEXT NOT NULL, model_hash TEXT NOT NULL,
    modality TEXT NOT NULL, case_id TEXT NOT NULL, seed INTEGER NOT NULL, judge TEXT NOT NULL,
    metric TEXT NOT NULL, value REAL NOT NULL, passed INTEGER, artifact TEXT NOT NULL, explanation TEXT);
CREATE INDEX IF NOT EXISTS records_run ON records(run_id, modality, case_id);
CREATE TABLE IF NOT EXISTS cases (
    run_id TEXT NOT NULL REFERENCES runs(run_id), modality TEXT NOT NULL, case_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, modality, case_id));
CREATE TABLE IF NOT EXISTS embeddings (
    sha256 TEXT NOT NULL, embedder TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (sha256, embedder));
CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, artifact TEXT NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, scores TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS adapters (key TEXT PRIMARY KEY, settings TEXT NOT NULL);
"""
COLUMNS = {
    "runs": ("run_id", "round", "model", "started", "finished", "settings"),
    "records": ("run_id", "round", "model_hash", "modality", "case_id", "seed", "judge", "metric", "value", "passed",
                "artifact", "explanation"),
    "cases": ("run_id", "modality", "case_id", "data"),
    "embeddings": ("sha256", "embedder", "vector"),
    "generations": ("key", "artifact", "sha256"),
    "scores": ("key", "scores"),
    "adapters": ("key", "settings"),
}
EMPTY_TABLES = "\n".join(f"CREATE TEMP TABLE {name} ({', '.join(columns)});" for name, columns in COLUMNS.items())


def damaged(root: Path, option: str, problem: str) -> GroundingUsageError:
    return GroundingUsageError(
        f"{option} {root}: the result store there is damaged ({problem}). Nothing was read from it or written to "
        f"it. Run `grounding store check --store {root}` to see what is wrong; to start afresh, move the folder "
        f"aside (or pass another {option}) and the next run creates a new store.")


def prepare(db: sqlite3.Connection, root: Path, option: str, *, writable: bool) -> None:
    """Check the database's integrity and version, migrate an older one (when writable) and check its tables."""
    (result, *_), = db.execute("PRAGMA quick_check").fetchall() or [("no answer",)]
    if result != "ok":
        raise damaged(root, option, f"SQLite's integrity check: {result}")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise GroundingUsageError(
            f"{option} {root}: this store was written by a newer grounding (schema {version}; this version reads "
            f"up to {SCHEMA_VERSION}). Upgrade grounding (`pip install -U grounding`), or pass another {option}.")
    _check_columns(db, root, option)
    if writable and version < SCHEMA_VERSION:
        _migrate(db, version)
    elif version < SCHEMA_VERSION:  # read-only: tables that older versions lacked read as empty
        present = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        db.executescript("\n".join(line for line in EMPTY_TABLES.split("\n")
                                   if line.split()[3] not in present))


def _check_columns(db: sqlite3.Connection, root: Path, option: str) -> None:
    for table, expected in COLUMNS.items():
        found = tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
        if found and found != expected:
            missing = [c for c in expected if c not in found]
            extra = [c for c in found if c not in expected]
            raise damaged(root, option, f"table {table} has columns {', '.join(found)}"
                          + (f"; missing {', '.join(missing)}" if missing else "")
                          + (f"; unknown {', '.join(extra)}" if extra else ""))


def _migrate(db: sqlite3.Connection, version: int) -> None:
    """Bring a store up to SCHEMA_VERSION in one transaction (a new store is version 0 with no tables)."""
    from ._artifacts import artifact_ref

    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        if version == 0:  # artifact paths were absolute; they are now relative to the store folder
            refs = [ref for (ref,) in db.execute("SELECT DISTINCT artifact FROM records")]
            db.executemany("UPDATE records SET artifact = ? WHERE artifact = ?",
                           [(artifact_ref(ref), ref) for ref in refs if artifact_ref(ref) != ref])
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.commit()
    except BaseException:
        db.rollback()
        raise
