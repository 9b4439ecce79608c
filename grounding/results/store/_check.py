"""`grounding store check`: the integrity of a store, its missing, damaged and orphaned artifacts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from grounding.errors import GroundingUsageError
from grounding.results.store._artifacts import ArtifactProblem, artifact_location, read_verified
from grounding.results.store._schema import SCHEMA_VERSION
from grounding.results.store._store import DATABASE, Store


@dataclass(frozen=True)
class StoreCheck:
    """What `grounding store check` found; `healthy` when nothing is wrong."""

    root: str
    database: str  # "ok", or why the database cannot be used
    runs: int
    records: int
    artifacts: int  # distinct artifacts the records and the generation cache refer to
    missing: tuple[str, ...]
    damaged: tuple[str, ...]  # hash mismatch, refused names, oversized files
    orphaned: tuple[str, ...]  # files under artifacts/ that nothing refers to

    @property
    def healthy(self) -> bool:
        return self.database == "ok" and not self.missing and not self.damaged

    def as_json(self) -> dict:
        return {**asdict(self), "healthy": self.healthy, "schema_version": SCHEMA_VERSION}

    def lines(self) -> list[str]:
        head = f"store {self.root}: " + ("healthy" if self.healthy else "PROBLEMS FOUND")
        lines = [head, f"  database: {self.database}",
                 f"  {self.runs} runs, {self.records} records, {self.artifacts} artifacts referred to"]
        for name, items in (("missing", self.missing), ("damaged or refused", self.damaged),
                            ("orphaned (nothing refers to them; safe to delete)", self.orphaned)):
            lines.append(f"  {len(items)} {name}" + "".join(f"\n    {item}" for item in items[:20])
                         + (f"\n    ... and {len(items) - 20} more" if len(items) > 20 else ""))
        return lines


def check_store(root: str | Path) -> StoreCheck:
    """Read a store without changing it and report what is wrong with it."""
    root = Path(root)
    if not (root / DATABASE).is_file():
        raise GroundingUsageError(f"--store {root}: no {DATABASE} there. Pass the folder that `pytest suites/ "
                                  f"--grounding-store DIR` wrote (default .grounding/).")
    try:
        store = Store(root, writable=False, option="--store")
    except GroundingUsageError as err:
        return StoreCheck(str(root), str(err), 0, 0, 0, (), (), _files(root))
    try:
        runs = store.runs()
        refs, records, damaged = set(), 0, []
        for run in runs:
            for record in store.records(run["run_id"]):
                refs.add(record.artifact)
                records += 1
        refs |= store.cached_artifacts()
    except GroundingUsageError as err:
        return StoreCheck(str(root), str(err), 0, 0, 0, (), (), ())
    finally:
        store.close()
    missing, known = [], set()
    for ref in sorted(refs):
        try:
            known.add(artifact_location(root, ref).name)
            read_verified(root, ref)
        except ArtifactProblem as problem:
            (missing if "missing" in str(problem) else damaged).append(str(problem))
    orphaned = tuple(f for f in _files(root) if Path(f).name not in known)
    return StoreCheck(str(root), "ok", len(runs), records, len(refs), tuple(missing), tuple(damaged), orphaned)


def _files(root: Path) -> tuple[str, ...]:
    folder = root / "artifacts"
    return tuple(sorted(str(p.relative_to(root)) for p in folder.rglob("*") if p.is_file() or p.is_symlink())) \
        if folder.is_dir() else ()
