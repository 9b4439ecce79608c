"""The store's tables, the version it writes, and the checks and migrations run when a store is opened.

A store folder holds grounding.sqlite (runs, records, cases, embeddings, the generation cache) and artifacts/
named by content hash. `PRAGMA user_version` says which schema wrote the database: 0 is a store from before
versions were written (same columns, artifact paths stored as absolute paths), 1 added nothing else, 2 adds the
score cache (`scores`) and the adapters' settings by load key (`adapters`), 3 (this one) adds two columns to
`records`: `kind` (what was judged: the model's "output", or a "control" a judge made to check itself; before, a
judge name ending in "-control" said so) and `sha256` (the judged artifact's content hash).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from grounding.errors import GroundingUsageError

SCHEMA_VERSION = 3
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, round TEXT NOT NULL, model TEXT NOT NULL, started REAL NOT NULL,
    finished REAL NOT NULL, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    run_id TEXT NOT NULL REFERENCES runs(run_id), round TEXT NOT NULL, model_hash TEXT NOT NULL,
    modality TEXT NOT NULL, case_id TEXT NOT NULL, seed INTEGER NOT NULL, judge TEXT NOT NULL,
    metric TEXT NOT NULL, value REAL NOT NULL, passed INTEGER, artifact TEXT NOT NULL, explanation TEXT,
    kind TEXT NOT NULL DEFAULT 'output', sha256 TEXT NOT NULL DEFAULT '');
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
                "artifact", "explanation", "kind", "sha256"),
    "cases": ("run_id", "modality", "case_id", "data"),
    "embeddings": ("sha256", "embedder", "vector"),
    "generations": ("key", "artifact", "sha256"),
    "scores": ("key", "scores"),
    "adapters": ("key", "settings"),
}
ADDED_IN_3 = {"records": ("kind", "sha256")}  # a store before schema 3 has the other columns only
EMPTY_TABLES = "\n".join(f"CREATE TEMP TABLE {name} ({', '.join(columns)});" for name, columns in COLUMNS.items())
# Read-only, a store before schema 3 shows its records with the new columns: the kind from the old name suffix,
# the hash from the artifact's file name (artifacts are named by their content hash).
RECORDS_VIEW = """CREATE TEMP VIEW records AS SELECT *,
    CASE WHEN judge LIKE '%-control' THEN 'control' ELSE 'output' END AS kind, named_hash(artifact) AS sha256
    FROM main.records"""


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
    _check_columns(db, root, option, version)
    if writable and version < SCHEMA_VERSION:
        _migrate(db, version)
    elif version < SCHEMA_VERSION:  # read-only: tables that older versions lacked read as empty
        present = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        db.executescript("\n".join(line for line in EMPTY_TABLES.split("\n")
                                   if line.split()[3] not in present))
        if "records" in present and _columns(db, "records") != COLUMNS["records"]:
            db.create_function("named_hash", 1, _named_hash, deterministic=True)
            db.execute(RECORDS_VIEW)


def _columns(db: sqlite3.Connection, table: str) -> tuple[str, ...]:
    return tuple(row[1] for row in db.execute(f"PRAGMA main.table_info({table})"))


def _check_columns(db: sqlite3.Connection, root: Path, option: str, version: int) -> None:
    for table, expected in COLUMNS.items():
        found = _columns(db, table)
        older = tuple(c for c in expected if c not in ADDED_IN_3.get(table, ()))
        if found and found != expected and not (version < 3 and found == older):
            missing = [c for c in expected if c not in found]
            extra = [c for c in found if c not in expected]
            raise damaged(root, option, f"table {table} has columns {', '.join(found)}"
                          + (f"; missing {', '.join(missing)}" if missing else "")
                          + (f"; unknown {', '.join(extra)}" if extra else ""))


def _migrate(db: sqlite3.Connection, version: int) -> None:
    """Bring a store up to SCHEMA_VERSION in one transaction (a new store is version 0 with no tables)."""
    from grounding.results.store._artifacts import artifact_ref

    db.execute("BEGIN IMMEDIATE")
    try:
        before = _columns(db, "records")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        if version == 0:  # artifact paths were absolute; they are now relative to the store folder
            refs = [ref for (ref,) in db.execute("SELECT DISTINCT artifact FROM records")]
            db.executemany("UPDATE records SET artifact = ? WHERE artifact = ?",
                           [(artifact_ref(ref), ref) for ref in refs if artifact_ref(ref) != ref])
        if before and "kind" not in before:  # schema 3: the judged kind as data, the artifact's hash kept
            db.execute("ALTER TABLE records ADD COLUMN kind TEXT NOT NULL DEFAULT 'output'")
            db.execute("ALTER TABLE records ADD COLUMN sha256 TEXT NOT NULL DEFAULT ''")
            db.execute("UPDATE records SET kind = 'control' WHERE judge LIKE '%-control'")
            refs = [ref for (ref,) in db.execute("SELECT DISTINCT artifact FROM records")]
            db.executemany("UPDATE records SET sha256 = ? WHERE artifact = ?",
                           [(_named_hash(ref), ref) for ref in refs if _named_hash(ref)])
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.commit()
    except BaseException:
        db.rollback()
        raise


def _named_hash(ref: str) -> str:
    """The content hash an artifact's file is named by (artifacts/ab/<sha256>.png), or "" for another name."""
    from grounding.results.store._artifacts import NAME, artifact_sha

    sha = artifact_sha(ref)
    return sha if NAME.fullmatch(sha) else ""
