"""`grounding store check`: the integrity of a store, its missing, damaged, orphaned and unsafe artifacts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from grounding.errors import GroundingUsageError
from grounding.results.store._artifacts import ArtifactProblem, artifact_entries, artifact_location, read_verified
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
    unsafe: tuple[str, ...] = ()  # symbolic links and anything not a regular file or folder under artifacts/

    @property
    def healthy(self) -> bool:
        return self.database == "ok" and not self.missing and not self.damaged and not self.unsafe

    def as_json(self) -> dict:
        return {**asdict(self), "healthy": self.healthy, "schema_version": SCHEMA_VERSION}

    def lines(self) -> list[str]:
        head = f"store {self.root}: " + ("healthy" if self.healthy else "PROBLEMS FOUND")
        lines = [head, f"  database: {self.database}",
                 f"  {self.runs} runs, {self.records} records, {self.artifacts} artifacts referred to"]
        for name, items in (("missing", self.missing), ("damaged or refused", self.damaged),
                            ("orphaned (nothing refers to them; safe to delete)", self.orphaned),
                            ("symbolic links or not regular files (never read; delete them)", self.unsafe)):
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
        files, unsafe = artifact_entries(root)
        return StoreCheck(str(root), str(err), 0, 0, 0, (), (), tuple(files), tuple(unsafe))
    try:
        runs = store.runs()
        refs, records, damaged = set(), 0, []
        for run in runs:
            for record in store.records(run["run_id"]):
                refs.add(record.artifact)
                records += 1
        refs |= store.cached_artifacts()
    except GroundingUsageError as err:
        return StoreCheck(str(root), str(err), 0, 0, 0, (), (), (), tuple(artifact_entries(root)[1]))
    finally:
        store.close()
    files, unsafe = artifact_entries(root)
    missing, refused, known = [], [], set()
    for ref in sorted(refs):
        try:
            known.add(artifact_location(root, ref).name)
            read_verified(root, ref)
        except ArtifactProblem as problem:
            {"missing": missing, "unsafe": refused}.get(problem.kind, damaged).append(str(problem))
    orphaned = tuple(f for f in files if Path(f).name not in known)
    return StoreCheck(str(root), "ok", len(runs), records, len(refs), tuple(missing), tuple(damaged), orphaned,
                      tuple(unsafe or refused))  # what the walk named, else (a file changed since) what a read refused
