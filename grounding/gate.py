"""The release gate from Python: run the suites' cases on a checkpoint, store the run, compare with a baseline.

    verdict = grounding.gate("ckpt/round-3", baseline="0", round="3")
    if not verdict.passed:
        raise SystemExit(verdict.summary())

The same data flow and statistics as `pytest suites/ --model ckpt/round-3 --round 3 --baseline 0`, without
pytest: for training loops that should stop a run that goes off the rails.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from grounding.errors import GroundingUsageError
from grounding.inputs._cases import load_cases, profile_case_file
from grounding.inputs._checkpoint import bundled, resolve
from grounding.reporting import headline, release_lines
from grounding.results import ModalityComparison, load_baseline
from grounding.results.store import Store
from grounding.running._orchestrator import ModalityResults
from grounding.settings import from_values

SUITE_CASES = bundled("suites", "suites") / "cases"


@dataclass(frozen=True)
class GateVerdict:
    """Whether the candidate may pass: every check `pytest suites/` makes holds (no case or pooled rate
    significantly below the floor, no significant regression of a slice or a case, no control output let
    through), from the same results."""

    run_id: str
    round: str
    baseline: str | None
    results: Mapping[str, ModalityResults]

    @property
    def passed(self) -> bool:
        return not self.failures()

    @property
    def comparisons(self) -> tuple[ModalityComparison, ...]:
        return tuple(r.comparison for r in self.results.values() if r.comparison is not None)

    def failures(self) -> list[str]:
        """One line per failing check, per modality."""
        return [f"{modality}: {line}" for modality, r in self.results.items() for line in r.failures()]

    def regressions(self) -> list[str]:
        """One line per significant regression against the baseline: the slices, then the cases."""
        out = [f"{c.modality}: {s.line()}" for c in self.comparisons for s in c.regressions]
        out += [f"{c.modality}: case {case.case_id}: {case.line()}" for c in self.comparisons for case in c.cases
                if case.regressed]
        return out

    def summary(self) -> str:
        """A one-line total, one line per modality (`grounding.reporting.headline`, as the terminal's), the
        first ten failing checks and where the rest are."""
        failures = self.failures()
        state = "passed" if not failures else "FAILED"
        against = f"against baseline {self.baseline!r}" if self.baseline else "with no baseline (floors only)"
        total = (f"grounding gate {state}: round {self.round!r} (run {self.run_id}) {against}: {len(failures)} "
                 f"failing checks over {len(self.results)} modalities")
        stores = {str(r.settings.store) for r in self.results.values()}
        full = "verdict.failures()" + "".join(f"; every case side by side: grounding report --store {s} --run "
                                              f"{self.run_id} --html report.html" for s in sorted(stores))
        heads = [headline(m, r.floors, r.comparison) for m, r in self.results.items()]
        return "\n".join([total, *release_lines(heads, failures, full)])


def _cases_for(modality: str, cases: Mapping[str, str | Path] | None, folder: str | None):
    """The case file given for a modality, else the suites' (text-to-image -> suites/cases/text_to_image.toml)."""
    path = (cases or {}).get(modality) or profile_case_file(SUITE_CASES / f"{modality.replace('-', '_')}.toml", folder)
    if not Path(path).is_file():
        raise GroundingUsageError(
            f"gate: no case file for {modality} at {path}. Pass cases={{{modality!r}: 'path/to/cases.toml'}} "
            f"(a case file as under suites/cases/).")
    return load_cases(path, modality)


def gate(model: str | Path, *, baseline: str | None, round: str = "candidate", store: str | Path = ".grounding",
         modalities: Sequence[str] | None = None, cases: Mapping[str, str | Path] | None = None,
         profile: str = "default", seeds: int | None = None, seed_start: int | None = None,
         min_pass_rate: float | None = None, floor_rule: str | None = None, confidence: float | None = None,
         tolerance: float | None = None, concept_tolerance: float | None = None, clip_tolerance: float | None = None,
         judge: str | None = None, device: str | None = None, allow_pickle: bool = False,
         forced_choice: bool = False) -> GateVerdict:
    """Run each modality of `model` (or those in `modalities`) on its cases (default: the suites' case files, or
    the profile's), append the run to `store` and judge it as `pytest suites/` does with the same options:
    floors, and against `baseline` (a round label or run id in the store, another store folder, or None for
    floors only) the regressions. An option left None takes the profile's value, else pytest's default. Raises
    GroundingUsageError on bad input before anything is generated."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from grounding.running._orchestrator import RunState, judge_modality

    settings = from_values({"model": str(model), "judge": judge, "round": round, "baseline": baseline,
                            "store": str(store), "profile": profile, "seeds": seeds, "seed-start": seed_start,
                            "min-pass-rate": min_pass_rate, "floor-rule": floor_rule, "tolerance": tolerance,
                            "concept-tolerance": concept_tolerance, "clip-tolerance": clip_tolerance,
                            "confidence": confidence, "device": device, "allow-pickle": allow_pickle,
                            "forced-choice": forced_choice})
    checkpoints = [c for c in resolve(settings.model, allow_pickle=settings.allow_pickle)
                   if modalities is None or c.modality in modalities]
    if not checkpoints:
        held = sorted(c.modality for c in resolve(settings.model, allow_pickle=settings.allow_pickle))
        raise GroundingUsageError(f"gate: {model} holds none of the modalities {list(modalities or [])}. Name "
                                  f"modalities it has ({', '.join(held)}), or leave modalities out.")
    chosen = {c.modality: _cases_for(c.modality, cases, settings.case_folder) for c in checkpoints}
    result_store = Store(settings.store)
    try:
        before = load_baseline(baseline, result_store) if baseline else None
        if before is not None:
            before.check_seeds(settings.seed_range)
            for checkpoint in checkpoints:  # every modality before any is generated
                before.check_pairs(checkpoint.modality, f"this run (round {settings.round!r}, model {model})",
                                   [(c.id, s) for c in chosen[checkpoint.modality] for s in settings.seed_range])
        state = RunState()
        results = {}
        for checkpoint in checkpoints:
            results[checkpoint.modality] = judge_modality(checkpoint, chosen[checkpoint.modality], settings,
                                                          result_store, state, before)
        state.save(result_store, settings)
    finally:
        result_store.close()
    return GateVerdict(state.run_id, settings.round, baseline, results)
