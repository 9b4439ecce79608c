"""The result store: a SQLite file of runs, records and the generation cache, plus content-named artifacts.

Every write is one transaction, so an interrupted run leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import time
from dataclasses import astuple, fields
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .errors import GroundingUsageError
from .types import Case, Record

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
"""
RECORD_COLUMNS = ", ".join(f.name for f in fields(Record))


class Store:
    """One folder: grounding.sqlite and artifacts/ named by content hash."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        try:
            (self.root / "artifacts").mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.root / "grounding.sqlite")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.DatabaseError) as err:
            raise GroundingUsageError(
                f"--grounding-store {self.root}: cannot open the result store there ({err}). Pass a writable "
                f"folder; if grounding.sqlite in it is damaged, move it aside and the next run starts a new one."
            ) from None

    def close(self) -> None:
        self._db.close()

    # artifacts and the generation cache
    def write_artifact(self, data: bytes, suffix: str) -> tuple[Path, str]:
        """Write bytes under their SHA-256 name (atomically) and return the path and hash."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.root / "artifacts" / sha[:2] / f"{sha}{suffix}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        return path, sha

    def cached_generation(self, key: str) -> tuple[Path, str] | None:
        row = self._db.execute("SELECT artifact, sha256 FROM generations WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        path = self.root / row[0]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != row[1]:
            return None
        return path, row[1]

    def remember_generations(self, entries: list[tuple[str, Path, str]]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO generations VALUES (?, ?, ?)",
                                 [(k, str(p.relative_to(self.root)), s) for k, p, s in entries])

    # embeddings of artifacts, for distribution drift (content-addressed like the generation cache)
    def remember_embeddings(self, embedder: str, vectors: Mapping[str, Sequence[float]]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                                 [(sha, embedder, json.dumps([round(float(v), 6) for v in vector]))
                                  for sha, vector in vectors.items()])

    def embeddings(self, embedder: str, shas: Iterable[str]) -> dict[str, list[float]]:
        """The stored embeddings of these artifacts by this embedder (those it has)."""
        wanted = list(dict.fromkeys(shas))
        out = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = self._db.execute(f"SELECT sha256, vector FROM embeddings WHERE embedder = ? AND sha256 IN "
                                    f"({', '.join('?' * len(chunk))})", (embedder, *chunk))
            out |= {sha: json.loads(vector) for sha, vector in rows}
        return out

    # runs and records
    def append_run(self, *, run_id: str, round: str, model: str, started: float, settings: dict,
                   records: list[Record], cases: Sequence[Case] = ()) -> None:
        """Add a run, all its records and the cases they answer (for reports) in one transaction."""
        with self._db:
            self._db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                             (run_id, round, model, started, time.time(), json.dumps(settings, sort_keys=True)))
            self._db.executemany(f"INSERT INTO records ({RECORD_COLUMNS}) VALUES ({', '.join('?' * len(fields(Record)))})",
                                 [astuple(r) for r in records])
            self._db.executemany("INSERT OR REPLACE INTO cases VALUES (?, ?, ?, ?)",
                                 [(run_id, c.modality, c.id, json.dumps(_case_data(c))) for c in cases])

    def runs(self) -> list[dict]:
        cursor = self._db.execute("SELECT run_id, round, model, started, finished, settings FROM runs ORDER BY started")
        return [dict(zip(("run_id", "round", "model", "started", "finished", "settings"), row)) for row in cursor]

    def find_run(self, ref: str) -> str | None:
        """The run id a --baseline names: a run id, or a round label (its latest run)."""
        row = self._db.execute("SELECT run_id FROM runs WHERE run_id = ? OR round = ? ORDER BY started DESC LIMIT 1",
                               (ref, ref)).fetchone()
        return row[0] if row else None

    def records(self, run_id: str) -> list[Record]:
        cursor = self._db.execute(f"SELECT {RECORD_COLUMNS} FROM records WHERE run_id = ?", (run_id,))
        return [Record(*row[:9], None if row[9] is None else bool(row[9]), *row[10:]) for row in cursor]

    def cases(self, run_id: str) -> dict[str, dict[str, Case]]:
        """modality -> case id -> Case, as the run stored them."""
        out: dict[str, dict[str, Case]] = {}
        for modality, case_id, data in self._db.execute(
                "SELECT modality, case_id, data FROM cases WHERE run_id = ?", (run_id,)):
            fields_ = json.loads(data)
            out.setdefault(modality, {})[case_id] = Case(
                case_id, modality, fields_["instruction"], tuple(fields_["contrasts"]), fields_["category"],
                tuple(fields_["concepts"]), fields_["expect"])
        return out


def _case_data(case: Case) -> dict:
    return {"instruction": case.instruction, "contrasts": list(case.contrasts), "category": case.category,
            "concepts": list(case.concepts), "expect": dict(case.expect)}
