"""What a report shows about one stored run, gathered from the store only; _markdown and _html render it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grounding.errors import GroundingUsageError
from grounding.judges.functional.code import WEAK_ISOLATION
from grounding.results import ModalityComparison, Thresholds, against, load_baseline
from grounding.results._floors import Floors
from grounding.results._history import HistoryRow, history
from grounding.results._verdicts import stored_floors
from grounding.results.store import Store
from grounding.types import Case, Record


@dataclass(frozen=True)
class RunReport:
    store: Path
    run: dict
    baseline: str | None
    rows: tuple[HistoryRow, ...]  # the whole store's history
    records: tuple[Record, ...]
    baseline_records: tuple[Record, ...]
    cases: dict[str, dict[str, Case]]
    comparisons: tuple[ModalityComparison, ...]
    baseline_store: Path | None = None  # the folder holding the baseline's artifacts (this store, or another)
    floors: dict[str, Floors] | None = None  # per modality, with the floor and rule the run used

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.comparisons) and not self.floor_failures()

    def floor_failures(self) -> list[str]:
        """One line per modality whose cases or pooled rate fell significantly below the floor."""
        out = []
        for modality, floors in sorted((self.floors or {}).items()):
            failed = floors.failed_cases()
            if failed or floors.pooled.failed:
                out.append(f"{modality}: {len(failed)} of {len(floors.cases)} cases below the floor ("
                           + ", ".join(t.name for t in failed[:10]) + ("..." if len(failed) > 10 else "")
                           + f"); all cases: {floors.pooled.line()}")
        return out

    def weak_sandbox(self, modality: str) -> str | None:
        """A line saying how many of the modality's outputs had their tests run under weak isolation, or None."""
        return weak_sandbox_line([r for r in self.records if r.modality == modality])

    def undecided(self, modality: str) -> str | None:
        """How many of the modality's cases could not be decided with their own observations, or None."""
        floors = (self.floors or {}).get(modality)
        return floors.undecidable_line(self._decided(modality)) if floors else None

    def undecided_count(self) -> int:
        """Cases of every modality that no observation of theirs could have failed."""
        return sum(len(f.undecidable_cases(self._decided(m))) for m, f in (self.floors or {}).items())

    def status(self) -> str:
        """The run's verdict in a few words, with the cases that were undecided."""
        status = ("FAILED: below the floor" if self.floor_failures() else "no baseline to compare with"
                  if not self.baseline else "passed" if self.passed else "FAILED: significant regression")
        undecided = self.undecided_count()
        return status + (f" ({undecided} cases undecidable alone)" if undecided else "")

    def _decided(self, modality: str) -> set[str]:
        return set().union(*(c.decidable_cases() for c in self.comparisons if c.modality == modality))

    def row(self, modality: str, run_id: str) -> HistoryRow | None:
        return next((r for r in self.rows if r.modality == modality and r.run_id == run_id), None)


def gather(store_root: str | Path, run: str | None = None, baseline: str | None = None) -> RunReport:
    """A run (default: the latest) against a baseline (default: the run's own --baseline, else the store's
    first run), read from the store."""
    root = Path(store_root)
    rows = tuple(history(root))  # raises the usage error for a missing store
    store = Store(root, writable=False, option="--store")
    try:
        runs = store.runs()
        if not runs:
            raise GroundingUsageError(f"--store {root}: no runs stored yet. Run `pytest suites/ --grounding-store "
                                      f"{root}` first.")
        run_id = store.find_run(run) if run else runs[-1]["run_id"]
        if run_id is None:
            raise GroundingUsageError(f"--run {run}: no run with that id or round label in {root} (rounds: "
                                      f"{', '.join(dict.fromkeys(r['round'] for r in runs))}).")
        info = next(r for r in runs if r["run_id"] == run_id)
        settings = info["settings"]
        asked = baseline or settings.get("baseline")
        baseline = asked or (runs[0]["run_id"] if runs[0]["run_id"] != run_id else None)
        thresholds = Thresholds(**settings["thresholds"]) if "thresholds" in settings else Thresholds()
        records = store.records(run_id)
        before = load_baseline(baseline, store, compared=run_id) if baseline else None
        cases = store.cases(run_id)
        # a baseline asked for must pair every modality (against() refuses one with nothing to pair); the store's
        # first run, taken by default, is compared on the modalities it pairs and the others are shown alone
        comparisons = tuple(against(before, m, records, c, store, thresholds, settings.get("judge"))
                            for m, c in sorted(cases.items()) if asked or _pairs(before, m, records)) if before else ()
        floors = {m: stored_floors([r for r in records if r.modality == m], settings) for m in cases}
        return RunReport(root, {**info, "settings": settings}, baseline, rows, tuple(records),
                         before.records if before else (), cases, comparisons, before.root if before else None, floors)
    finally:
        store.close()


def _pairs(baseline, modality: str, records: list[Record]) -> bool:
    """Whether any output of `modality` in `records` has a partner (same case and seed) in the baseline."""
    held = {(r.case_id, r.seed) for r in baseline.records if r.modality == modality}
    return any((r.case_id, r.seed) in held for r in records if r.modality == modality and not r.is_control)


def weak_sandbox_line(records: list[Record]) -> str | None:
    """How many outputs' tests ran under weak sandbox isolation, and without what (their passes are weaker
    evidence), or None when none did."""
    sandboxed = [r for r in records if r.judge == "sandbox"]
    weak = [r for r in sandboxed if r.explanation.startswith(f"sandbox ({WEAK_ISOLATION}")]
    if not weak:
        return None
    without = weak[0].explanation.split(":", 1)[0][len("sandbox ("):-1]  # "WEAK isolation, without ..."
    return f"sandbox: {len(weak)} of {len(sandboxed)} outputs' tests ran under {without}: their passes are weaker evidence"
