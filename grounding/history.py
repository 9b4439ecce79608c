"""Round-by-round history of a store: one row per run and modality, read from the store only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import fmean

from .errors import GroundingUsageError
from .report import self_description
from .store import Store
from .types import Record
from .verdicts import summarize


@dataclass(frozen=True)
class HistoryRow:
    round: str
    run_id: str
    started: float
    modality: str
    cases: int
    metrics: dict[str, float] = field(default_factory=dict)


def _metrics(records: list[Record]) -> dict[str, float]:
    cases: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if not r.judge.endswith("-control"):
            cases[r.case_id].append(r)
    out = {"pass_rate": fmean(summarize(rs)[0] for rs in cases.values())}
    for name, judge, metric in (("clip_score", "clip", "clip_score"), ("oracle_accuracy", "oracle", "correct"),
                                ("tests_passed", "sandbox", "tests_passed"), ("bandit_findings", "bandit", "findings")):
        values = [r.value for r in records if r.judge == judge and r.metric == metric]
        if values:
            out[name] = fmean(values)
    out |= {name.replace(" ", "_"): value for name, (value, _) in self_description(records).items()}
    return {k: round(v, 4) for k, v in out.items()}


def history(store_root: str | Path) -> list[HistoryRow]:
    """Every run in the store, oldest first, with each modality's headline metrics."""
    root = Path(store_root)
    if not (root / "grounding.sqlite").is_file():
        raise GroundingUsageError(f"--store {root}: no grounding.sqlite there. Pass the folder that "
                                  f"`pytest suites/ --grounding-store DIR` wrote (default .grounding/).")
    store = Store(root)
    try:
        rows = []
        for run in store.runs():
            by_modality: dict[str, list[Record]] = defaultdict(list)
            for record in store.records(run["run_id"]):
                by_modality[record.modality].append(record)
            for modality, records in sorted(by_modality.items()):
                cases = len({r.case_id for r in records if not r.judge.endswith("-control")})
                rows.append(HistoryRow(run["round"], run["run_id"], run["started"], modality, cases,
                                       _metrics(records)))
        return rows
    finally:
        store.close()


def as_table(rows: list[HistoryRow]) -> str:
    """A plain-text table: rounds down, one column per metric, a block per modality."""
    lines = []
    for modality in sorted({r.modality for r in rows}):
        mine = [r for r in rows if r.modality == modality]
        names = list(dict.fromkeys(k for r in mine for k in r.metrics))
        header = ["round", "run", "cases", *names]
        body = [[r.round, r.run_id, str(r.cases), *(f"{r.metrics[n]:.3f}" if n in r.metrics else "-" for n in names)]
                for r in mine]
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        lines.append(f"{modality}:")
        lines += [("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths))).rstrip()
                  for row in [header, *body]]
    return "\n".join(lines)


def as_json(rows: list[HistoryRow]) -> list[dict]:
    return [asdict(r) for r in rows]
