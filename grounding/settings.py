"""Run settings: every option is a command-line flag and an ini setting of the same name."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from grounding.errors import GroundingUsageError
from grounding.inputs._checkpoint import BUNDLED
from grounding.inputs._paths import user_path
from grounding.results._thresholds import Thresholds


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise ValueError("must lie between 0 and 1")
    return value


def _tolerance(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a finite number of at least 0")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be a whole number of at least 0")
    return value


def _choice(*names: str) -> Callable[[str], str]:
    def choose(text: str) -> str:
        if str(text) not in names:
            raise ValueError(f"must be one of {', '.join(names)}")
        return str(text)
    return choose


def _flag(text: Any) -> bool:
    return text is True or str(text).lower() in ("1", "true", "yes", "on")


# What a profile changes: option defaults (a flag or ini value still wins) and the case-file folder.
PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "thorough": {"seeds": 8, "concept-tolerance": 0.02, "cases": "thorough"},
}

# (option, type, default, help); the ini name is the option with dashes as underscores, prefixed grounding_.
OPTIONS: list[tuple[str, Callable[[str], Any], Any, str]] = [
    ("model", str, None, "checkpoint folder (default: the bundled shapes-world reference checkpoints)"),
    ("judge", str, None, "CLIP judge: ARCH:PRETRAINED, ARCH:/weights.safetensors or an open_clip folder"),
    ("round", str, "0", "label of this run, e.g. the self-training round"),
    ("baseline", str, None, "compare with a run: a round label or run id in the store, or another store folder"),
    ("store", str, ".grounding", "result store folder"),
    ("profile", _choice(*PROFILES), "default",
     "default, or thorough: 8 seeds, the larger case files under suites/cases/thorough/ (120 text-to-image cases) "
     "and --concept-tolerance 0.02, to detect a 5-point fall (see `grounding plan`)"),
    ("seeds", _positive, 4, "generations per case (default profile 4, thorough 8)"),
    ("seed-start", _count, 0, "first seed: a case is generated with seeds N..N+seeds-1, so a rerun with another "
     "start judges the model on seeds it was never checked on"),
    ("min-pass-rate", _fraction, 0.75, "the floor: a case (and the modality's pooled rate) fails when its pass rate is "
     "significantly below it"),
    ("floor-rule", _choice("test", "point"), "test",
     "test: fail a floor when significantly below it (one-sided exact binomial, Benjamini-Hochberg across the "
     "modality's cases, at --confidence); point: fail when the pass rate itself is below it"),
    ("tolerance", _fraction, 0.25, "with --baseline: largest allowed fall of a case's pass rate"),
    ("concept-tolerance", _fraction, 0.05,
     "with --baseline: largest allowed fall of the share of passing outputs of a modality, concept or judge"),
    ("clip-tolerance", _tolerance, 0.1, "with --baseline: largest allowed fall of a mean CLIPScore (case or slice)"),
    ("confidence", _fraction, 0.95,
     "a fall below the floor or the baseline counts only when significant at this level"),
    ("device", str, None, "torch device (default: cuda when present, else cpu)"),
    ("allow-pickle", _flag, False, "allow pickle (.bin/.pt) weights; they can run code when loaded"),
    ("allow-weak-sandbox", _flag, False,
     "run generated code even where no isolation layer (bubblewrap) exists: resource limits only"),
    ("forced-choice", _flag, False,
     "also ask each language model to pick what its output is (one of the labels or none; for code, yes or no "
     "first), blind and primed, scored beside its free description (instruction bias, false assurance)"),
]


def ini_name(option: str) -> str:
    return "grounding_" + option.replace("-", "_")


def flag_name(option: str) -> str:
    return "--grounding-store" if option == "store" else f"--{option}"


@dataclass(frozen=True)
class Settings:
    model: Path
    judge: str | None
    round: str
    baseline: str | None
    store: Path
    seeds: int
    min_pass_rate: float
    tolerance: float
    concept_tolerance: float
    clip_tolerance: float
    confidence: float
    device: str | None
    allow_pickle: bool
    allow_weak_sandbox: bool = False
    profile: str = "default"
    seed_start: int = 0
    floor_rule: str = "test"
    forced_choice: bool = False

    @property
    def seed_range(self) -> range:
        return range(self.seed_start, self.seed_start + self.seeds)

    @property
    def case_folder(self) -> str | None:
        """The profile's sub-folder of a suite's case folder (its case files, where it has them)."""
        return PROFILES[self.profile].get("cases")

    @property
    def model_given(self) -> bool:
        return self.model != BUNDLED

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(confidence=self.confidence, tolerance=self.tolerance,
                          concept_tolerance=self.concept_tolerance, clip_tolerance=self.clip_tolerance)


def from_values(values: dict[str, Any]) -> Settings:
    """Convert raw option values (flag, else ini, else default) and name the bad one if any."""
    converted: dict[str, Any] = {}
    for option, kind, default, _ in OPTIONS:
        raw = values.get(option)
        if raw is None or raw == "":
            raw = PROFILES.get(converted.get("profile", "default"), {}).get(option)
        if raw is None or raw == "":
            converted[option] = default
            continue
        try:
            converted[option] = kind(raw)
        except (ValueError, TypeError, OverflowError) as err:
            raise GroundingUsageError(
                f"{flag_name(option)} {raw!r} (or ini {ini_name(option)}): {err}. See `pytest --help`, section "
                f"grounding, for what each option takes."
            ) from None
    return Settings(
        model=user_path(converted["model"]) if converted["model"] else BUNDLED,
        judge=converted["judge"], round=str(converted["round"]), baseline=converted["baseline"],
        store=user_path(converted["store"]), seeds=converted["seeds"],
        min_pass_rate=converted["min-pass-rate"], tolerance=converted["tolerance"],
        concept_tolerance=converted["concept-tolerance"], clip_tolerance=converted["clip-tolerance"],
        confidence=converted["confidence"], device=converted["device"],
        allow_pickle=converted["allow-pickle"], allow_weak_sandbox=converted["allow-weak-sandbox"],
        profile=converted["profile"], seed_start=converted["seed-start"], floor_rule=converted["floor-rule"],
        forced_choice=converted["forced-choice"],
    )
