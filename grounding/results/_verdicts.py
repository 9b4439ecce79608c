"""From records to per-case verdicts: pass rate over the distinct observations, its floor test, and the baseline
delta."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Iterable

from grounding.errors import printable
from grounding.results._comparison import CaseChange
from grounding.results._floors import Floors, FloorTest, Observations, floor_tests, observations
from grounding.results.store import artifact_sha
from grounding.types import Case, Record


@dataclass(frozen=True)
class SeedOutcome:
    seed: int
    passed: bool
    artifact: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CaseVerdict:
    case: Case
    seeds: tuple[SeedOutcome, ...]
    floor: FloorTest
    clip_score: float | None
    change: CaseChange | None
    passed: bool
    problems: tuple[str, ...]
    store: Path | None = None  # the store's folder: artifact paths in the message open from the current directory

    @property
    def pass_rate(self) -> float:
        return self.floor.observed.rate

    @property
    def interval(self) -> tuple[float, float]:
        return self.floor.interval

    def message(self) -> str:
        """The failure message: instruction, scores, the contrast that won, and the artifact paths."""
        lines = [f"instruction: {self.case.instruction!r}", self.floor.line()
                 + (f"; mean CLIPScore {self.clip_score:.3f} (2.5*max(cos,0))" if self.clip_score is not None else "")]
        if self.change is not None:
            lines.append(f"against the baseline: {self.change.line()}")
        lines += [f"FAILED: {p}" for p in self.problems]
        for outcome in self.seeds:
            mark = "ok " if outcome.passed else "BAD"
            path = opened_path(self.store, outcome.artifact)
            lines.append(f"  {mark} seed {outcome.seed}: {'; '.join(outcome.reasons)}\n        {path}")
            if not outcome.passed:
                lines += _shown(path)
        return printable("\n".join(lines), lines=True)  # quotes a model's output: shown on a terminal


def opened_path(store: Path | None, artifact: str) -> str:
    """A record's artifact (kept relative to the store) as a path that opens from the current directory: the
    store's folder joined, relative to the current directory when the store lies under it, else absolute."""
    if store is None:
        return artifact
    path = Path(os.path.abspath(Path(store) / artifact))
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


TEXT_SUFFIXES = (".txt", ".py")
CONTEXT = ("oracle", "self-description")  # shown beside a failure: what the output is and what the model said
SHOWN_LINES = 24


def _shown(artifact: str) -> list[str]:
    """A text output, quoted under its seed in a failure message (images are shown by path only)."""
    if not artifact.endswith(TEXT_SUFFIXES):
        return []
    try:
        text = Path(artifact).read_text(errors="replace").split("\n")
    except OSError:
        return []
    more = [f"        | ... ({len(text) - SHOWN_LINES} more lines)"] if len(text) > SHOWN_LINES else []
    return [f"        | {line}" for line in text[:SHOWN_LINES]] + more


def _reason(record: Record) -> str:
    """A record's explanation, named by its judge unless the explanation already starts with the name."""
    text = record.explanation
    return text if text.startswith(record.judge + ":") else f"{record.judge}: {text}"


def _by_seed(records: Iterable[Record]) -> dict[int, list[Record]]:
    out: dict[int, list[Record]] = defaultdict(list)
    for r in records:
        out[r.seed].append(r)
    return out


def summarize(records: list[Record]) -> tuple[float, float | None]:
    """(pass rate, mean CLIPScore) of one case's records."""
    seeds = _by_seed(records)
    passes = [all(r.passed for r in rs if r.passed is not None) for rs in seeds.values()]
    clip = [r.value for r in records if r.metric == "clip_score"]
    return (sum(passes) / len(passes) if passes else 0.0), (fmean(clip) if clip else None)


def seed_outcomes(records: list[Record]) -> tuple[SeedOutcome, ...]:
    """Per seed: whether its output passed every judge that gives a verdict, and why (or what it was)."""
    outcomes = []
    for seed, rs in sorted(_by_seed(records).items()):
        verdicts = [r for r in rs if r.passed is not None]
        failed = tuple(_reason(r) for r in verdicts if not r.passed)
        context = tuple(_reason(r) for r in verdicts if r.passed and r.judge in CONTEXT)
        reasons = failed + context if failed else tuple(r for r in context if r.startswith("oracle"))
        outcomes.append(SeedOutcome(seed, all(r.passed for r in verdicts), rs[0].artifact,
                                    reasons or ("no verdict",)))
    return tuple(outcomes)


def case_observations(records: list[Record]) -> Observations:
    """The case's distinct observations (seeds that all gave one output are one observation)."""
    return observations([(artifact_sha(o.artifact), o.passed) for o in seed_outcomes(records)])


def case_verdict(case: Case, records: list[Record], *, floor: FloorTest,
                 change: CaseChange | None = None, store: Path | None = None) -> CaseVerdict:
    """A case passes when its pass rate is not significantly below the floor (or, with --floor-rule point, not
    below it) and, against a baseline, it has not fallen significantly further than the tolerance."""
    outcomes = seed_outcomes(records)
    _, clip = summarize(records)
    problems = []
    if floor.failed:
        problems.append(("pass rate below" if floor.rule == "point" else "pass rate significantly below")
                        + f" the floor --min-pass-rate {floor.floor:.2f}")
    if change is not None and change.pass_rate_fell:
        problems.append(f"pass rate fell {change.before - change.after:.2f} below the baseline's "
                        f"by more than --tolerance (one-sided McNemar p={change.p_value:.3g})")
    if change is not None and change.clip_score_fell:
        problems.append(f"CLIPScore fell {change.clip_before - change.clip_after:.3f} below the baseline's "
                        f"by more than --clip-tolerance (sign-flip p={change.clip_p_value:.3g})")
    return CaseVerdict(case, outcomes, floor, clip, change, not problems, tuple(problems), store)


def failing_checks(case_problems: Iterable[tuple[str, str]], pooled: FloorTest, comparison,
                   leaks: Iterable[tuple[str, str]]) -> list[str]:
    """One line per failing check, in the suites' order: (case id, its problems), the pooled floor, the
    comparison's regressions, (case id, why) of each control output the judge let through."""
    out = [f"case {cid}: {problems}" for cid, problems in case_problems]
    if pooled.failed:
        out.append(f"all cases: {pooled.line()}")
    out += [s.line() for s in comparison.regressions] if comparison is not None else []
    return out + [f"control output passed for case {cid}: {why}" for cid, why in leaks]


def modality_floors(records: Iterable[Record], floor: float, *, confidence: float, rule: str,
                    cases: Iterable[str] = ()) -> Floors:
    """The floor tests of one modality's records (controls left out); `cases` with no record are tested too."""
    by_case: dict[str, list[Record]] = {cid: [] for cid in cases}
    for r in records:
        if not r.is_control:
            by_case.setdefault(r.case_id, []).append(r)
    return floor_tests({cid: case_observations(rs) for cid, rs in by_case.items()}, floor, confidence=confidence,
                       rule=rule)


def stored_floors(records: Iterable[Record], settings: dict) -> Floors:
    """The floor tests of one modality's stored records, with the floor, rule and confidence the run used."""
    return modality_floors(records, settings.get("min_pass_rate", 0.75), rule=settings.get("floor_rule", "test"),
                           confidence=settings.get("thresholds", {}).get("confidence", 0.95))


SELF_DESCRIPTION = {"blind_accuracy": "blind accuracy", "primed_accuracy": "primed accuracy",
                    "instruction_bias": "instruction bias", "false_assurance": "false assurance"}
FAMILIES = {"free": ("self-description", ""), "choice": ("forced choice", "choice_")}  # heading, metric prefix


def self_description(records: list[Record], family: str = "free") -> dict[str, tuple[float, int]]:
    """Per metric of the self-description judge in one probe family (the free description, or the forced
    choice): (mean over the outputs it applied to, how many)."""
    prefix = FAMILIES[family][1]
    out = {}
    for metric, name in SELF_DESCRIPTION.items():
        values = [r.value for r in records if r.judge == "self-description" and r.metric == prefix + metric]
        if values:
            out[name] = (sum(values) / len(values), len(values))
    return out
