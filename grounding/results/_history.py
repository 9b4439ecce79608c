"""Round-by-round history of a store: one row per run and modality, read from the store only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import fmean

from grounding.errors import printable
from grounding.results._verdicts import self_description, summarize
from grounding.results.store import Store
from grounding.types import Case, Record


@dataclass(frozen=True)
class HistoryRow:
    round: str
    run_id: str
    started: float
    modality: str
    cases: int
    metrics: dict[str, float] = field(default_factory=dict)
    concepts: dict[str, float] = field(default_factory=dict)  # share of a concept's outputs that pass every judge


def _cases_of(records: list[Record]) -> dict[str, list[Record]]:
    cases: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if not r.is_control:
            cases[r.case_id].append(r)
    return cases


def _concepts(records: list[Record], cases: dict[str, Case]) -> dict[str, float]:
    """Per concept word (and category) of the stored cases: the pass rate over its cases' outputs."""
    rates: dict[str, list[float]] = defaultdict(list)
    for case_id, rs in _cases_of(records).items():
        case = cases.get(case_id)
        for word in () if case is None else {*case.concepts, case.category} - {""}:
            rates[word].append(summarize(rs)[0])
    return {word: round(fmean(v), 4) for word, v in sorted(rates.items())}


def _metrics(records: list[Record]) -> dict[str, float]:
    out = {"pass_rate": fmean(summarize(rs)[0] for rs in _cases_of(records).values())}
    for name, judge, metric in (("clip_score", "clip", "clip_score"), ("oracle_accuracy", "oracle", "correct"),
                                ("tests_passed", "sandbox", "tests_passed"), ("bandit_findings", "bandit", "findings")):
        values = [r.value for r in records if r.judge == judge and r.metric == metric]
        if values:
            out[name] = fmean(values)
    out |= {name.replace(" ", "_"): value for name, (value, _) in self_description(records).items()}
    out |= {"choice_" + name.replace(" ", "_"): value
            for name, (value, _) in self_description(records, "choice").items()}
    return {k: round(v, 4) for k, v in out.items()}


def history(store_root: str | Path) -> list[HistoryRow]:
    """Every run in the store, oldest first, with each modality's headline metrics."""
    root = Path(store_root)
    store = Store(root, writable=False, option="--store")
    try:
        rows = []
        for run in store.runs():
            by_modality: dict[str, list[Record]] = defaultdict(list)
            for record in store.records(run["run_id"]):
                by_modality[record.modality].append(record)
            stored_cases = store.cases(run["run_id"])
            for modality, records in sorted(by_modality.items()):
                rows.append(HistoryRow(run["round"], run["run_id"], run["started"], modality,
                                       len(_cases_of(records)), _metrics(records),
                                       _concepts(records, stored_cases.get(modality, {}))))
        return rows
    finally:
        store.close()


def as_table(rows: list[HistoryRow]) -> str:
    """A plain-text table: rounds down, one column per metric, a block per modality; the store's labels made
    printable."""
    lines = []
    for modality in sorted({r.modality for r in rows}):
        mine = [r for r in rows if r.modality == modality]
        names = list(dict.fromkeys(k for r in mine for k in r.metrics))
        header = ["round", "run", "cases", *names]
        body = [[printable(r.round), printable(r.run_id), str(r.cases),
                 *(f"{r.metrics[n]:.3f}" if n in r.metrics else "-" for n in names)] for r in mine]
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        lines.append(f"{printable(modality)}:")
        lines += [("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths))).rstrip()
                  for row in [header, *body]]
    return "\n".join(lines)


def as_json(rows: list[HistoryRow]) -> list[dict]:
    return [asdict(r) for r in rows]


def moved_most(rows: list[HistoryRow], count: int = 4) -> list[str]:
    """The concepts whose pass rate moved most between a modality's first and last run in `rows`."""
    if len(rows) < 2:
        return []
    first, last = rows[0].concepts, rows[-1].concepts
    shared = [c for c in first if c in last]
    return sorted(shared, key=lambda c: (-abs(last[c] - first[c]), c))[:count]
