"""From records to per-case verdicts: pass rate over seeds, its interval, and the baseline delta."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Iterable

from .compare import CaseChange
from .stats import clopper_pearson
from .types import Case, Record


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
    pass_rate: float
    interval: tuple[float, float]
    clip_score: float | None
    change: CaseChange | None
    passed: bool
    problems: tuple[str, ...]

    def message(self) -> str:
        """The failure message: instruction, scores, the contrast that won, and the artifact paths."""
        lines = [f"instruction: {self.case.instruction!r}",
                 f"pass rate {self.pass_rate:.2f} over {len(self.seeds)} seeds "
                 f"(95% Clopper-Pearson {self.interval[0]:.2f}-{self.interval[1]:.2f})"
                 + (f", mean CLIPScore {self.clip_score:.3f} (2.5*max(cos,0))" if self.clip_score is not None else "")]
        if self.change is not None:
            lines.append(f"against the baseline: {self.change.line()}")
        lines += [f"FAILED: {p}" for p in self.problems]
        for outcome in self.seeds:
            mark = "ok " if outcome.passed else "BAD"
            lines.append(f"  {mark} seed {outcome.seed}: {'; '.join(outcome.reasons)}\n        {outcome.artifact}")
            if not outcome.passed:
                lines += _shown(outcome.artifact)
        return "\n".join(lines)


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


def case_verdict(case: Case, records: list[Record], *, min_pass_rate: float,
                 change: CaseChange | None = None) -> CaseVerdict:
    """A case passes when enough seeds pass every judge and, against a baseline, it has not fallen significantly
    further than the tolerance."""
    outcomes = []
    for seed, rs in sorted(_by_seed(records).items()):
        verdicts = [r for r in rs if r.passed is not None]
        failed = tuple(_reason(r) for r in verdicts if not r.passed)
        context = tuple(_reason(r) for r in verdicts if r.passed and r.judge in CONTEXT)
        reasons = failed + context if failed else tuple(r for r in context if r.startswith("oracle"))
        outcomes.append(SeedOutcome(seed, all(r.passed for r in verdicts), rs[0].artifact,
                                    reasons or ("no verdict",)))
    passes = sum(o.passed for o in outcomes)
    rate, clip = summarize(records)
    problems = []
    if rate < min_pass_rate:
        problems.append(f"pass rate {rate:.2f} is below the minimum {min_pass_rate:.2f}")
    if change is not None and change.pass_rate_fell:
        problems.append(f"pass rate fell {change.before - change.after:.2f} below the baseline's "
                        f"by more than --tolerance (one-sided McNemar p={change.p_value:.3g})")
    if change is not None and change.clip_score_fell:
        problems.append(f"CLIPScore fell {change.clip_before - change.clip_after:.3f} below the baseline's "
                        f"by more than --clip-tolerance (sign-flip p={change.clip_p_value:.3g})")
    return CaseVerdict(case, tuple(outcomes), rate, clopper_pearson(passes, len(outcomes)), clip, change,
                       not problems, tuple(problems))
