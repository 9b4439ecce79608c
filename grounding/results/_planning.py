"""`grounding plan`: how many seeds (and cases) a run needs to detect a target fall, from a stored run's own
pass rates or from an assumed rate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grounding.errors import GroundingUsageError
from grounding.results._power import fall_mde, floor_power

SEEDS = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class Design:
    """What a plan starts from: per-case pass rates, whether the model's outputs vary with the seed (not under
    greedy decoding: one observation per case however many seeds) and the number of slices a comparison tests."""

    source: str
    rates: tuple[float, ...]
    seeded: bool
    slices: int


def design_from_run(store_root: Path, run: str | None, modality: str | None) -> Design:
    from grounding.results._comparison import concept_words
    from grounding.results._verdicts import case_observations
    from grounding.results.store import Store

    store = Store(store_root, writable=False, option="--store")
    try:
        runs = store.runs()
        run_id = store.find_run(run) if run else (runs[-1]["run_id"] if runs else None)
        if run_id is None:
            raise GroundingUsageError(f"plan --store {store_root}: no run {run or ''} to plan from. Name a run or "
                                      f"round label it holds, or plan from --rate and --cases instead.")
        cases, records = store.cases(run_id), store.records(run_id)
    finally:
        store.close()
    modality = modality or (sorted(cases)[0] if len(cases) == 1 else None)
    if modality not in cases:
        raise GroundingUsageError(f"plan: name the modality to plan for with --modality (run {run_id} holds "
                                  f"{', '.join(sorted(cases))}).")
    by_case: dict[str, list] = {cid: [] for cid in cases[modality]}
    for r in records:
        if r.modality == modality and r.case_id in by_case and not r.is_control:
            by_case[r.case_id].append(r)
    observed = [case_observations(rs) for rs in by_case.values() if rs]
    words = {w for c in cases[modality].values() for w in concept_words(c)}
    metrics = {(r.judge, r.metric) for rs in by_case.values() for r in rs if r.passed is not None}
    seeded = any(o.total > 1 for o in observed) or all(o.seeds <= 1 for o in observed)
    return Design(f"run {run_id} ({modality}, {len(observed)} cases)", tuple(o.rate for o in observed), seeded,
                  1 + len(words) + len(metrics))


def plan_lines(design: Design, *, target: float, tolerance: float, floor: float, confidence: float,
               cases: int | None = None) -> list[str]:
    """A table of seeds -> detectable fall and floor power, and the smallest size that reaches `target`."""
    rates = list(design.rates)
    if cases and cases != len(rates):  # more (or fewer) cases like these: repeat their rates
        rates = [rates[i % len(rates)] for i in range(cases)]
    lines = [f"plan from {design.source}: mean pass rate {sum(rates) / len(rates):.3f}, {len(rates)} cases, "
             f"{design.slices} slices tested (Holm), tolerance {tolerance:.3f}, {confidence:.0%} confidence, "
             f"80% power", "seeds  outputs  detectable fall  a case fails its floor alone below"]
    reached = None
    for seeds in SEEDS:
        observations = seeds if design.seeded else 1
        mde = fall_mde(rates, [observations] * len(rates), tolerance=tolerance, confidence=confidence,
                       family=design.slices)
        lone = floor_power(observations, floor, confidence=confidence, family=len(rates) + 1)
        lines.append(f"{seeds:5d}  {seeds * len(rates):7d}  {mde:15.3f}  "
                     + (f"{lone.detectable_rate:.2f}" if lone.detectable_rate is not None else
                        f"never (needs {lone.needed} observations)"))
        if reached is None and mde <= target:
            reached = seeds
    if not design.seeded:
        lines.append("the model gave one output for all of a case's seeds: more seeds add no observation; set a "
                     "sampling temperature in grounding.toml, or add cases")
    if reached is not None:
        lines.append(f"{reached} seeds per case ({reached * len(rates)} outputs) detect a uniform fall of {target:.3f} "
                     f"with 80% power: pytest suites/ --seeds {reached}")
    else:
        lines.append(f"no seed count up to {SEEDS[-1]} detects a fall of {target:.3f} at this size: add cases "
                     f"(--cases N to plan with more), lower the tolerance, or accept a larger detectable fall")
    return lines
