"""The result store: runs, records, the generation and score caches in SQLite, plus content-named artifacts.

Every write is one transaction, so an interrupted run leaves the store as it was. Nothing read back is trusted:
the database is checked when opened, every stored row is checked as it is read, and artifacts are found by
their name inside the store and checked against their hash.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import tempfile
import time
from dataclasses import astuple, fields
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote

from grounding.errors import GroundingUsageError
from grounding.results.store._artifacts import (ArtifactProblem, artifact_location, artifact_ref, artifact_sha,
                                                open_folders, read_verified)
from grounding.results.store._schema import damaged, prepare
from grounding.types import KINDS, Case, Record

RECORD_COLUMNS = ", ".join(f.name for f in fields(Record))
DATABASE = "grounding.sqlite"
BUSY_SECONDS = 120  # xdist workers write the caches at once: a writer waits for the lock this long


class Store:
    """One folder: grounding.sqlite and artifacts/ named by content hash.

    Opened writable (the default) the folder is created when missing and an older store is migrated; opened
    with writable=False (a baseline, a report) it must exist and is never changed. `option` is the flag that
    named the folder, for messages."""

    def __init__(self, root: str | Path, *, writable: bool = True, option: str = "--grounding-store"):
        self.root, self.option = Path(root), option
        try:
            self._db = self._connect(writable)
        except sqlite3.DatabaseError as err:
            raise damaged(self.root, option, str(err)) from None
        except OSError as err:
            raise GroundingUsageError(
                f"{option} {self.root}: cannot open the result store there ({err}). Pass a folder this user can "
                f"write to, or fix its permissions.") from None

    def _connect(self, writable: bool) -> sqlite3.Connection:
        file = self.root / DATABASE
        if not writable:
            if not file.is_file():
                raise GroundingUsageError(
                    f"{self.option} {self.root}: no {DATABASE} there. Pass the folder that `pytest suites/ "
                    f"--grounding-store DIR` wrote (default .grounding/).")
            db = sqlite3.connect(f"file:{quote(str(file.resolve()))}?mode=ro", uri=True)
        else:
            if self.root.exists() and not self.root.is_dir():
                raise NotADirectoryError(f"{self.root} is a file")
            (self.root / "artifacts").mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=self.root / "artifacts").close()  # the artifacts can be written
            db = sqlite3.connect(file, timeout=BUSY_SECONDS)
        try:
            prepare(db, self.root, self.option, writable=writable)
            if writable:  # the database can be written: take the write lock once and let it go
                db.execute("BEGIN IMMEDIATE")
                db.rollback()
        except sqlite3.OperationalError as err:
            db.close()
            if "readonly" in str(err) or "read-only" in str(err):
                raise OSError(f"the database is read-only: {err}") from None
            raise
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._db.close()

    # artifacts and the generation cache
    def write_artifact(self, data: bytes, suffix: str) -> tuple[Path, str]:
        """Write bytes under their SHA-256 name (atomically) and return the path and hash. A file already there
        is kept only when its content matches its name; a folder under artifacts/ that is a link is refused."""
        sha = hashlib.sha256(data).hexdigest()
        path = artifact_location(self.root, f"{sha}{suffix}")
        if not self._holds(path.name, sha):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(open_folders(self.root, path.relative_to(self.root).parts[:-1]))
            except (ArtifactProblem, OSError) as problem:  # a link where a folder belongs: the caller's own store
                raise GroundingUsageError(f"{self.option} {self.root}: cannot write {path.name} ({problem}).") from None
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        return path, sha

    def read_artifact(self, ref: str) -> bytes:
        """A stored artifact's bytes, checked against its name (ArtifactProblem says why it cannot be read)."""
        return read_verified(self.root, ref)

    def artifact_path(self, ref: str) -> Path:
        """Where a record's artifact lies inside this store (ArtifactProblem for a name that is not a store's)."""
        return artifact_location(self.root, ref)

    def cached_generation(self, key: str) -> tuple[Path, str] | None:
        row = self._db.execute("SELECT artifact, sha256 FROM generations WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return (artifact_location(self.root, str(row[0])), row[1]) if self._holds(str(row[0]), row[1]) else None

    def cached_artifacts(self) -> set[str]:
        """The artifact references the generation cache holds."""
        return {str(ref) for (ref,) in self._db.execute("SELECT artifact FROM generations")}

    def remember_generations(self, entries: list[tuple[str, Path, str]]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO generations VALUES (?, ?, ?)",
                                 [(k, artifact_ref(p), s) for k, p, s in entries])

    def verified_artifact(self, ref: str, sha: str) -> Path | None:
        """Where a stored artifact lies, when it is there and holds what its hash says; else None."""
        return artifact_location(self.root, str(ref)) if self._holds(str(ref), str(sha)) else None

    def _holds(self, ref: str, sha: Any) -> bool:
        """Whether the artifact `ref` names is a regular file in this store whose content hashes to sha."""
        if artifact_sha(ref) != sha:
            return False
        try:
            read_verified(self.root, ref)
        except ArtifactProblem:
            return False
        return True

    # the score cache (running/_score_cache.py): JSON lists of scores by key; unreadable rows read as absent
    def cached_scores(self, keys: Sequence[str]) -> dict[str, Any]:
        out = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            # bandit B608: only the count of ? placeholders is formatted in; values are bound
            rows = self._db.execute(f"SELECT key, scores FROM scores WHERE key IN ({', '.join('?' * len(chunk))})",  # nosec B608
                                    chunk)
            out |= {key: value for key, text in rows if (value := _json(text, list)) is not None}
        return out

    def remember_scores(self, entries: Mapping[str, list]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?)",
                                 [(key, json.dumps(value, sort_keys=True)) for key, value in entries.items()])

    # an adapter's settings by what loaded it, so that a rerun can find its outputs without loading the model
    def adapter_settings(self, key: str) -> dict | None:
        row = self._db.execute("SELECT settings FROM adapters WHERE key = ?", (key,)).fetchone()
        return None if row is None else _json(row[0], dict)

    def remember_adapter_settings(self, key: str, settings: Mapping[str, Any]) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO adapters VALUES (?, ?)", (key, json.dumps(dict(settings))))

    # embeddings of artifacts, for distribution drift (content-addressed like the generation cache)
    def remember_embeddings(self, embedder: str, vectors: Mapping[str, Sequence[float]]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                                 [(sha, embedder, json.dumps([round(float(v), 6) for v in vector]))
                                  for sha, vector in vectors.items()])

    def embeddings(self, embedder: str, shas: Iterable[str]) -> dict[str, list[float]]:
        """The stored embeddings of these artifacts by this embedder (those it has; unreadable ones are left out)."""
        wanted = list(dict.fromkeys(shas))
        out = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            # bandit B608: only the count of ? placeholders is formatted in; values are bound
            rows = self._db.execute(f"SELECT sha256, vector FROM embeddings WHERE embedder = ? AND sha256 IN "  # nosec B608
                                    f"({', '.join('?' * len(chunk))})", (embedder, *chunk))
            for sha, vector in rows:
                values = _json(vector, list)
                if values and all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
                    out[sha] = [float(v) for v in values]
        return out

    # runs and records
    def append_run(self, *, run_id: str, round: str, model: str, started: float, settings: dict,
                   records: list[Record], cases: Sequence[Case] = ()) -> None:
        """Add a run, all its records and the cases they answer (for reports) in one transaction."""
        try:
            self._append_run(run_id, round, model, started, settings, records, cases)
        except sqlite3.OperationalError as err:  # disk full, read-only, locked past the timeout
            raise GroundingUsageError(
                f"{self.option} {self.root}: could not save run {run_id} ({err}); the store is as it was before "
                f"the run. Free disk space or fix the folder's permissions, then run again (generated outputs "
                f"are cached, so nothing is generated twice).") from None

    def _append_run(self, run_id: str, round: str, model: str, started: float, settings: dict,
                    records: list[Record], cases: Sequence[Case]) -> None:
        with self._db:
            self._db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                             (run_id, round, model, started, time.time(), json.dumps(settings, sort_keys=True)))
            # bandit B608: column names from the Record dataclass and ? placeholders; values are bound
            self._db.executemany(f"INSERT INTO records ({RECORD_COLUMNS}) VALUES ({', '.join('?' * len(fields(Record)))})",  # nosec B608
                                 [astuple(r) for r in records])
            self._db.executemany("INSERT OR REPLACE INTO cases VALUES (?, ?, ?, ?)",
                                 [(run_id, c.modality, c.id, json.dumps(case_data(c))) for c in cases])

    def runs(self) -> list[dict]:
        """Every run, oldest first: run_id, round, model, started, finished and settings (a dict)."""
        cursor = self._db.execute("SELECT run_id, round, model, started, finished, settings FROM runs ORDER BY started")
        return [self._run(row) for row in cursor]

    def find_run(self, ref: str, *, compared: str | None = None) -> str | None:
        """The run id a --baseline names: a run id, or a round label (its latest run). With `compared`, the run id
        being compared: a label never names that run itself, and names the latest run that started before it where
        one does (the baseline it was compared with at run time), else the latest after it."""
        row = self._db.execute(
            "SELECT run_id FROM runs WHERE run_id = :ref OR (round = :ref AND run_id IS NOT :compared) ORDER BY "
            "run_id = :ref DESC, started < (SELECT started FROM runs WHERE run_id = :compared) DESC, started DESC "
            "LIMIT 1", {"ref": ref, "compared": compared}).fetchone()
        return row[0] if row else None

    def records(self, run_id: str) -> list[Record]:
        # bandit B608: column names from the Record dataclass; the run id is bound
        cursor = self._db.execute(f"SELECT {RECORD_COLUMNS} FROM records WHERE run_id = ?", (run_id,))  # nosec B608
        return [self._record(row) for row in cursor]

    def cases(self, run_id: str) -> dict[str, dict[str, Case]]:
        """modality -> case id -> Case, as the run stored them."""
        from grounding.inputs._cases import case_from_table

        out: dict[str, dict[str, Case]] = {}
        for modality, case_id, data in self._db.execute(
                "SELECT modality, case_id, data FROM cases WHERE run_id = ?", (run_id,)):
            table = _json(data, dict)
            if table is None or not isinstance(modality, str):
                raise self._damaged(f"run {run_id}, case {case_id!r}: the stored case is not a JSON table")
            try:
                case = case_from_table({"id": case_id, **table}, modality)
            except ValueError as err:
                raise self._damaged(f"run {run_id}, stored case {case_id!r}: {err}") from None
            out.setdefault(modality, {})[case.id] = case
        return out

    # every row read back is checked: a store from elsewhere (a downloaded baseline) is input like any other
    def _run(self, row: tuple) -> dict:
        run = dict(zip(("run_id", "round", "model", "started", "finished", "settings"), row))
        settings = _json(run["settings"], dict)
        if not all(isinstance(run[k], str) for k in ("run_id", "round", "model")) or settings is None \
                or not all(isinstance(run[k], (int, float)) for k in ("started", "finished")) \
                or not _known_settings(settings):
            raise self._damaged(f"run {run['run_id']!r} has values of the wrong type")
        return {**run, "settings": settings}

    def _record(self, row: tuple) -> Record:
        data = dict(zip((f.name for f in fields(Record)), row))
        texts = ("run_id", "round", "model_hash", "modality", "case_id", "judge", "metric", "artifact")
        wrong = [k for k in texts if not isinstance(data[k], str)]
        wrong += [] if isinstance(data["seed"], int) else ["seed"]
        wrong += [] if isinstance(data["value"], (int, float)) and not isinstance(data["value"], bool) else ["value"]
        wrong += [] if data["passed"] in (None, 0, 1) else ["passed"]
        wrong += [] if data["explanation"] is None or isinstance(data["explanation"], str) else ["explanation"]
        wrong += [] if data["kind"] in KINDS else ["kind"]
        wrong += [] if isinstance(data["sha256"], str) else ["sha256"]
        if wrong:
            raise self._damaged(f"a record of run {data['run_id']!r} has a wrong {', '.join(wrong)}")
        return Record(**{**data, "value": float(data["value"]),
                         "passed": None if data["passed"] is None else bool(data["passed"]),
                         "explanation": data["explanation"] or ""})

    def _damaged(self, problem: str) -> GroundingUsageError:
        return damaged(self.root, self.option, problem)


def _known_settings(settings: dict) -> bool:
    """Whether the run settings that reports read back have the types they are read as."""
    from grounding.results._thresholds import Thresholds

    thresholds = settings.get("thresholds", {})
    return (isinstance(thresholds, dict) and set(thresholds) <= {f.name for f in fields(Thresholds)}
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in thresholds.values())
            and all(isinstance(settings.get(k), (str, type(None))) for k in ("baseline", "judge", "profile"))
            and settings.get("floor_rule", "test") in ("test", "point")
            and all(isinstance(settings.get(k, 0), (int, float)) and not isinstance(settings.get(k, 0), bool)
                    and math.isfinite(settings.get(k, 0)) for k in ("seeds", "seed_start", "min_pass_rate"))
            and isinstance(settings.get("generation", {}), dict)
            and all(isinstance(v, dict) and {"artifacts", "from_cache"} <= set(v)
                    and all(isinstance(n, int) for n in v.values())
                    for v in settings.get("generation", {}).values()))


def _json(text: Any, kind: type) -> Any:
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, kind) else None


def case_data(case: Case) -> dict:
    return {"instruction": case.instruction, "contrasts": list(case.contrasts), "category": case.category,
            "concepts": list(case.concepts), "expect": dict(case.expect)}
