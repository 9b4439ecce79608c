"""The one orchestrator of a run (the pytest plugin, `grounding.gate` and `grounding selftrain` all go through it):
what a session computes for a modality, and the state it appends to the store at the end."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, astuple, dataclass, field
from typing import Sequence

from grounding.inputs._checkpoint import Checkpoint, content_hash
from grounding.results import Baseline, ModalityComparison, failing_checks
from grounding.results._floors import Floors
from grounding.results._verdicts import CaseVerdict, case_verdict, modality_floors, opened_path
from grounding.results.store import Store
from grounding.running._generation import Meter, Progress, RunInfo, generate, sample_seed, to_records
from grounding.settings import Settings
from grounding.types import Case, Record


@dataclass
class RunState:
    """Accumulates this session's records; written to the store in one transaction when the session ends."""

    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    started: float = field(default_factory=time.time)
    records: list[Record] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    generation: dict[str, dict[str, int]] = field(default_factory=dict)
    adapters: dict[str, dict] = field(default_factory=dict)  # each modality's adapter settings (rescore reads them)
    worlds: dict[str, str | None] = field(default_factory=dict)

    def as_json(self) -> dict:
        """What an xdist worker sends the controller, which stores the one run (_workers.py)."""
        from grounding.results.store import case_data

        return {"run_id": self.run_id, "started": self.started, "records": [astuple(r) for r in self.records],
                "models": self.models, "generation": self.generation, "adapters": self.adapters,
                "worlds": self.worlds, "cases": [[c.id, c.modality, case_data(c)] for c in self.cases]}

    def merge(self, sent: dict) -> None:
        """Add what a worker computed: the modalities this state does not hold yet (every worker that computed a
        modality holds the same records for it)."""
        from grounding.inputs._cases import case_from_table

        new = [m for m in sent["models"] if m not in self.models]
        self.started = min(self.started, sent["started"])
        records = [Record(*row) for row in sent["records"]]
        self.records += [record for record in records if record.modality in new]
        self.cases += [case_from_table({"id": i, **table}, m) for i, m, table in sent["cases"] if m in new]
        for field_name in ("models", "generation", "adapters", "worlds"):
            getattr(self, field_name).update({m: v for m, v in sent[field_name].items() if m in new})

    def save(self, store: Store, settings: Settings) -> None:
        """Append this run, its records and its cases to the store, in one transaction."""
        store.append_run(run_id=self.run_id, round=settings.round, model=str(settings.model), started=self.started,
                         records=self.records, cases=self.cases,
                         settings={"models": self.models, "generation": self.generation, "adapters": self.adapters,
                                   "worlds": self.worlds,
                                   "judge": settings.judge or "bundled:shapes-clip", "seeds": settings.seeds,
                                   "seed_start": settings.seed_start, "profile": settings.profile,
                                   "min_pass_rate": settings.min_pass_rate, "floor_rule": settings.floor_rule,
                                   "baseline": settings.baseline, "thresholds": asdict(settings.thresholds)})


SHOWN_CASES = 20  # cases listed under a failing pooled floor


@dataclass(frozen=True)
class ModalityResults:
    """Records of one modality in this run, its floor tests and, with --baseline, the comparison with the
    baseline's. Every verdict of the suites and of `gate()` is read from here."""

    cases: dict[str, Case]
    records: dict[str, list[Record]]
    comparison: ModalityComparison | None
    settings: Settings
    floors: Floors

    def verdict(self, case_id: str) -> CaseVerdict:
        return case_verdict(self.cases[case_id], self.judged(case_id), floor=self.floors.cases[case_id],
                            change=None if self.comparison is None else self.comparison.case(case_id),
                            store=self.settings.store)

    def undecided(self, case_id: str) -> str | None:
        """Why the case's own observations could not have failed it (its outcome, what it would take), or None when
        they could: its floor test, or its fall against the baseline, could be significant. Such a case is no pass."""
        floor, change = self.floors.cases[case_id], self.comparison and self.comparison.case(case_id)
        if floor.decidable or (change is not None and change.decidable):
            return None
        pairs = (f"; against the baseline, {change.seeds} observed pair{'s' * (change.seeds != 1)} cannot fall "
                 f"significantly either" if change is not None else "")
        return (f"undecidable alone: {floor.undecided()}{pairs}; counted in the pooled floor "
                f"(test_pass_rate_of_all_cases_is_above_the_floor)")

    def judged(self, case_id: str) -> list[Record]:
        return [r for r in self.records.get(case_id, []) if not r.is_control]

    def controls(self, case_id: str) -> list[Record]:
        return [r for r in self.records.get(case_id, []) if r.is_control]

    def leaks(self) -> list[tuple[str, str]]:
        """(case id, explanation) of every control output (blank, noise) that the judge let through."""
        return [(cid, r.explanation) for cid in self.cases for r in self.controls(cid) if not r.passed]

    def floor_message(self) -> str:
        """The pooled floor's verdict, then every case with a failing output, worst first, with why it failed."""
        worst = sorted(self.floors.cases.values(), key=lambda t: (t.observed.rate, t.p_value))
        failing = [t.name for t in worst if t.observed.passed < t.observed.total]
        return "\n".join([f"all cases of the modality: {self.floors.pooled.line()}",
                          f"{len(failing)} of {len(worst)} cases have a failing output:", *self._why(failing)])

    def regression_message(self) -> str:
        """The comparison's message, then every case that lost a passing output, with why its output failed."""
        lost = [c.case_id for c in sorted(self.comparison.cases, key=lambda c: c.after - c.before) if c.lost]
        return "\n".join([self.comparison.message(),
                          f"{len(lost)} of {len(self.comparison.cases)} cases lost a passing output:",
                          *self._why(lost)])

    def _why(self, case_ids: list[str]) -> list[str]:
        """Per case: its instruction and pass rate, one failing seed's reasons and its output."""
        lines = []
        for case_id in case_ids[:SHOWN_CASES]:
            floor = self.floors.cases[case_id]
            bad = next(o for o in self.verdict(case_id).seeds if not o.passed)
            lines += [f"  {case_id}: {self.cases[case_id].instruction!r}, pass rate {floor.observed.rate:.2f} over "
                      f"{floor.observed.counted()}", f"      seed {bad.seed} (the adapter's seed "
                      f"{sample_seed(self.cases[case_id].instruction, bad.seed)}): {'; '.join(bad.reasons)}",
                      f"      {opened_path(self.settings.store, bad.artifact)}"]
        if len(case_ids) > SHOWN_CASES:
            lines.append(f"  ... and {len(case_ids) - SHOWN_CASES} more (see the HTML report: grounding report)")
        return lines

    def failures(self) -> list[str]:
        """One line per failing check, in the suites' order: cases, the pooled floor, regressions, control leaks."""
        verdicts = [self.verdict(cid) for cid in self.cases]
        return failing_checks([(v.case.id, "; ".join(v.problems)) for v in verdicts if not v.passed],
                              self.floors.pooled, self.comparison, self.leaks())


def modality_results(cases: dict[str, Case], records: Sequence[Record], comparison: ModalityComparison | None,
                     settings: Settings) -> ModalityResults:
    """Group the records by case and test every case, and the pooled rate, against the floor."""
    by_case: dict[str, list[Record]] = {}
    for record in records:
        by_case.setdefault(record.case_id, []).append(record)
    floors = modality_floors(records, settings.min_pass_rate, confidence=settings.confidence, rule=settings.floor_rule,
                             cases=cases)
    return ModalityResults(cases, by_case, comparison, settings, floors)


def judge_modality(checkpoint: Checkpoint, cases: Sequence[Case], settings: Settings, store: Store,
                   state: RunState, baseline: Baseline | None, progress: Progress | None = None,
                   adapter=None) -> ModalityResults:
    """The one orchestration behind `pytest suites/`, `gate()` and `selftrain`: generate and judge a modality's
    cases, add the records to the run, compare them with the baseline (if any) and test the floors. `adapter`:
    a LazyAdapter already used for this checkpoint (xdist workers reuse the one that made their share)."""
    from grounding.results import against

    if baseline is not None:  # before generating: a modality with nothing to pair would pass on no evidence
        baseline.check_pairs(checkpoint.modality, f"this run {state.run_id} (round {settings.round!r}, model "
                             f"{settings.model})", [(c.id, seed) for c in cases for seed in settings.seed_range])
    records = run_modality(checkpoint, cases, settings, store, state, progress, adapter)
    state.records.extend(records)
    state.cases.extend(cases)
    by_id = {c.id: c for c in cases}
    comparison = None if baseline is None else against(baseline, checkpoint.modality, records, by_id, store,
                                                       settings.thresholds, settings.judge)
    return modality_results(by_id, records, comparison, settings)


def run_modality(checkpoint: Checkpoint, cases: Sequence[Case], settings: Settings, store: Store,
                 state: RunState, progress: Progress | None = None, adapter=None) -> list[Record]:
    """Generate, then judge the outputs with every installed judge of the adapter's artifact kind; outputs and
    scores come from the store's caches where it has them, and the model is loaded only to make what is new."""
    from grounding.adapters._lazy import LazyAdapter
    from grounding.adapters._protocol import adapter_kind
    from grounding.judges._registry import JudgeContext, judges_for
    from grounding.running._score_cache import judged_with_cache

    judges = judges_for(adapter_kind(checkpoint.modality), checkpoint.modality)  # before loading any weights
    model_hash = adapter.model_hash if adapter else content_hash(checkpoint.path)  # xdist: hashed once per worker
    state.models[checkpoint.modality] = model_hash
    run = RunInfo(state.run_id, settings.round, model_hash)
    adapter = adapter or LazyAdapter(checkpoint, settings, store, model_hash)
    started = time.perf_counter()
    generated = generate(adapter, cases, settings.seed_range, store, model_hash, progress)
    state.adapters[checkpoint.modality], state.worlds[checkpoint.modality] = dict(adapter.settings), checkpoint.world
    context = JudgeContext(adapter, settings, store, model_hash, checkpoint.world)
    by_id = {c.id: c for c in cases}
    records, scores_cached = [], 0
    for judge in judges:
        judged, from_cache = judged_with_cache(judge, generated.artifacts, by_id, context,
                                               Meter(progress, f"{checkpoint.modality}: judged by {judge.name}"))
        for artifact, scores in judged:
            records += to_records(run, checkpoint.modality, artifact, scores)
        scores_cached += from_cache
    state.generation[checkpoint.modality] = {"artifacts": len(generated.artifacts), "from_cache": generated.from_cache,
                                             "scores_from_cache": scores_cached, "model_loaded": adapter.is_loaded}
    if progress:
        elapsed = time.perf_counter() - started
        progress(f"{checkpoint.modality}: {len(generated.artifacts)} outputs ({generated.from_cache} from cache) "
                 f"generated and judged in {elapsed:.1f} s ({len(generated.artifacts) / max(elapsed, 1e-9):.1f} "
                 f"outputs/s)" + ("" if adapter.is_loaded else "; the model was not loaded"), True)
    return records
