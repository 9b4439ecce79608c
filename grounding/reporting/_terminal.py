"""The run summary for the terminal, read from the store only."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from grounding.errors import printable
from grounding.judges.functional.clip import CLIPSCORE_SCALE
from grounding.results import (Floors, ModalityComparison, Thresholds, case_verdict, compare_runs, concept_words,
                               failing_checks)
from grounding.results._power import stated_power
from grounding.results._verdicts import FAMILIES, self_description, stored_floors, summarize
from grounding.reporting._run_report import weak_sandbox_line
from grounding.results.store import Store
from grounding.types import Case, Record


def judge_agreement(records: list[Record]) -> tuple[int, int, int, int]:
    """Per (case, seed) where both judged: (both pass, clip only, oracle only, both fail)."""
    verdicts: dict[tuple[str, int], dict[str, bool]] = defaultdict(dict)
    for r in records:  # by value, not by pass: a judge that is reported but does not gate still has a reading
        if r.metric in ("r_precision", "correct") and r.judge in ("clip", "oracle"):
            verdicts[(r.case_id, r.seed)][r.judge] = r.value >= 0.5
    counts = [0, 0, 0, 0]
    for v in verdicts.values():
        if "clip" in v and "oracle" in v:
            counts[2 * (not v["clip"]) + (not v["oracle"])] += 1  # both, CLIP alone, the oracle alone, neither
    return tuple(counts)


FAILING_SHOWN = 10


def headline(modality: str, floors: Floors, comparison: ModalityComparison | None) -> str:
    """A modality in one line, for a release manager: the pooled pass rate with its interval, the cases below the
    floor, the significant regressions and the slice that fell most. `gate().summary()` and the terminal both
    start with it."""
    pooled, o = floors.pooled, floors.pooled.observed
    below = "below" if pooled.rule == "point" else "significantly below"
    text = (f"{modality}: pass rate {o.rate:.3f} ({o.passed}/{o.total}, {pooled.confidence:.0%} CI "
            f"{pooled.interval[0]:.3f}-{pooled.interval[1]:.3f}"
            + (f", {below} the floor" if pooled.failed else "")
            + f"), {len(floors.failed_cases())} of {len(floors.cases)} cases {below} the floor {pooled.floor:.2f}")
    if comparison is None:
        return text + ", no baseline"
    cases, slices = sum(c.regressed for c in comparison.cases), len(comparison.regressions)
    text += (f", {slices + cases} significant regressions against baseline {comparison.baseline}"
             + (f" ({slices} slices, {cases} cases)" if slices + cases else ""))
    gating = [s for s in comparison.slices if s.gates]
    worst = min(gating, key=lambda s: (not s.regressed, s.interval.mean), default=None)
    if worst is None or worst.interval.mean >= 0:
        return text + "; no slice fell"
    return (text + f"; worst slice: {worst.name} {worst.before:.3f} -> {worst.after:.3f} (p={worst.p_value:.2g}, "
            f"Holm p={worst.p_adjusted:.2g})" + (" REGRESSED" if worst.regressed else ""))


def release_lines(headlines: list[str], failures: list[str], full_list: str) -> list[str]:
    """The headline of each modality, the first failing checks, and where the full list is."""
    shown = f", the first {FAILING_SHOWN}" if len(failures) > FAILING_SHOWN else ""
    listed = [f"failing checks ({len(failures)}{shown}):", *(f"  {f}" for f in failures[:FAILING_SHOWN])]
    return [*headlines, *(listed if failures else ["failing checks: none"]), f"full list: {full_list}"]


def stored_failures(modality: str, records: dict[str, list[Record]], cases: dict[str, Case], floors: Floors,
                    comparison: ModalityComparison | None, controls: list[Record]) -> list[str]:
    """The failing checks of a stored modality, as `gate().failures()` gives them: cases, the pooled floor,
    regressed slices, control outputs let through."""
    problems = []
    for cid, test in floors.cases.items():
        if cid in cases:
            verdict = case_verdict(cases[cid], records[cid], floor=test,
                                   change=comparison.case(cid) if comparison else None)
            problems += [(cid, "; ".join(verdict.problems))] if not verdict.passed else []
        elif test.failed:
            problems.append((cid, test.line()))
    leaks = [(r.case_id, r.explanation) for r in controls if not r.passed]
    return [f"{modality}: {line}" for line in failing_checks(problems, floors.pooled, comparison, leaks)]


def summary_lines(store_root: Path, run_id: str) -> list[str]:
    """The run's summary for pytest's terminal, each line made printable (labels and case ids come from a store):
    the release lines first (`release_lines`), then the details per modality."""
    store = Store(store_root, writable=False)
    try:
        run = next(r for r in store.runs() if r["run_id"] == run_id)
        records = store.records(run_id)
        stored_cases = store.cases(run_id)
        settings = run["settings"]
        comparisons = (compare_runs(store, run_id, settings["baseline"], Thresholds(**settings["thresholds"]),
                                    settings.get("judge"))
                       if settings.get("baseline") else [])
    finally:
        store.close()
    lines = [f"run {run_id}, round {run['round']!r}, stored in {Path(store_root) / 'grounding.sqlite'}"]
    headlines, failures = [], []
    by_modality: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_modality[r.modality].append(r)
    for modality, rs in sorted(by_modality.items()):
        cases: dict[str, list[Record]] = defaultdict(list)
        controls = [r for r in rs if r.is_control]
        for r in rs:
            if not r.is_control:
                cases[r.case_id].append(r)
        rates = [summarize(c)[0] for c in cases.values()]
        clip = [r.value for r in rs if r.metric == "clip_score"]
        gen = settings.get("generation", {}).get(modality, {})
        lines.append(f"{modality}: {len(cases)} cases, mean pass rate {sum(rates) / max(len(rates), 1):.3f}"
                     + (f"; mean CLIPScore {sum(clip) / len(clip):.3f} [{CLIPSCORE_SCALE}]" if clip else ""))
        if gen:
            made = gen["artifacts"] - gen["from_cache"]
            lines.append(f"  generation: {gen['artifacts']} outputs, {gen['from_cache']} from cache, {made} generated"
                         + (" (nothing regenerated)" if made == 0 else ""))
        both, clip_only, oracle_only, neither = judge_agreement(rs)
        judged = both + clip_only + oracle_only + neither
        if judged:
            lines.append(f"  CLIP judge vs shapes-world oracle on {judged} outputs: agreement "
                         f"{(both + neither) / judged:.3f} (both pass {both}, CLIP-only pass {clip_only}, "
                         f"oracle-only pass {oracle_only}, both fail {neither})")
        for family, (heading, _) in FAMILIES.items():
            described = self_description(rs, family)
            if described:
                lines.append(f"  {heading}: " + ", ".join(f"{name} {value:.3f} (n={n})"
                                                         for name, (value, n) in described.items()))
        weak = weak_sandbox_line(rs)
        if weak:
            lines.append(f"  {weak}")
        if controls:
            lost = sum(bool(r.passed) for r in controls)
            lines.append(f"  judge controls (blank and noise images must not outrank contrasts): "
                         f"{lost}/{len(controls)} held")
        decided = set().union(*(c.decidable_cases() for c in comparisons if c.modality == modality))
        floors = stored_floors([r for c in cases.values() for r in c], settings)
        lines += [f"  {line}" for line in floor_lines(cases, stored_cases.get(modality, {}), settings, floors,
                                                      decided)]
        comparison = next((c for c in comparisons if c.modality == modality), None)
        headlines.append(headline(modality, floors, comparison))
        failures += stored_failures(modality, cases, stored_cases.get(modality, {}), floors, comparison, controls)
    for comparison in comparisons:
        lines += comparison_lines(comparison)
    if settings.get("baseline") == run["round"]:
        lines.append(f"note: this run is stored as round {run['round']!r}, the label --baseline named, so from now on "
                     f"--baseline {run['round']} names this run. Give each run its own --round to keep the baseline.")
    full = (f"the lines below, and grounding report --store {store_root} --run {run_id} --html report.html (every "
            f"case, side by side)")
    return [printable(line) for line in release_lines(headlines, failures, full) + lines]


def floor_lines(records: dict[str, list[Record]], cases: dict[str, Case], settings: dict, floors: Floors,
                decided: set[str] = frozenset()) -> list[str]:
    """The run's floor verdicts, the cases undecidable alone (but those `decided` against a baseline) and what a
    run of its size can detect (its stated power)."""
    thresholds = Thresholds(**settings.get("thresholds", {}))
    floor, rule = settings.get("min_pass_rate", 0.75), settings.get("floor_rule", "test")
    observed = {cid: test.observed for cid, test in floors.cases.items()}
    failed = floors.failed_cases()
    distinct = sum(o.total for o in observed.values())
    seeds = sum(o.seeds for o in observed.values())
    counted = [] if distinct == seeds else [
        f"observations: {distinct} distinct outputs of {seeds} (seeds that all gave one output count once; set a "
        f"sampling temperature in grounding.toml for spread)"]
    concepts: dict[str, list[str]] = defaultdict(list)
    for cid in observed:
        for word in concept_words(cases.get(cid)):
            concepts[word].append(cid)
    concepts = {w: ids for w, ids in concepts.items() if 1 < len(ids) < len(observed)}
    metrics = len({(r.judge, r.metric) for rs in records.values() for r in rs if r.passed is not None})
    power = stated_power({cid: o.rate for cid, o in observed.items()}, {cid: o.total for cid, o in observed.items()},
                         concepts, floor=floor, tolerance=thresholds.concept_tolerance,
                         confidence=thresholds.confidence, metrics=metrics)
    undecided = floors.undecidable_line(decided)
    return [f"floor: {len(failed)} of {len(observed)} cases {'below' if rule == 'point' else 'significantly below'} "
            f"{floor:.2f}; all cases: {floors.pooled.line()}", *([undecided] if undecided else []), *counted,
            *power.lines()]


MOVED_SHOWN = 3


def comparison_lines(comparison: ModalityComparison) -> list[str]:
    """The comparison's headline, every significant regression and the slices that moved most."""
    head, *rest = comparison.message().split("\n")
    regressed = [f"  {s.line()}" for s in comparison.regressions]
    moved = sorted((s for s in comparison.slices if not s.regressed), key=lambda s: s.interval.mean)[:MOVED_SHOWN]
    cases = [c for c in comparison.cases if c.regressed]
    return ([head] + [line for line in rest if not line.startswith("  ")] + regressed
            + [f"  moved most: {s.line()}" for s in moved if s.interval.mean < 0]
            + [f"  case {c.case_id} regressed: {c.line()}" for c in cases])
