"""The data that flows through a run, one way: Case -> Artifact -> Score -> Record."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class Case:
    """One instruction to ground, with its hard contrasts and what a faithful output holds."""

    id: str
    modality: str
    instruction: str
    contrasts: tuple[str, ...] = ()
    category: str = ""
    concepts: tuple[str, ...] = ()
    expect: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Artifact:
    """A generated output written to disk, named by its content hash."""

    case_id: str
    seed: int
    path: Path
    sha256: str
    cached: bool


@dataclass(frozen=True)
class Score:
    """What one judge says about one artifact."""

    judge: str
    metric: str
    value: float
    passed: bool | None = None
    explanation: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    kind: str = "output"  # what was judged: the model's output, or a "control" the judge made to check itself


KINDS = ("output", "control")


@dataclass(frozen=True)
class Record:
    """One stored score: a row of the result store."""

    run_id: str
    round: str
    model_hash: str
    modality: str
    case_id: str
    seed: int
    judge: str
    metric: str
    value: float
    passed: bool | None
    artifact: str
    explanation: str = ""
    kind: str = "output"  # Score.kind
    sha256: str = ""  # the artifact's content hash

    @property
    def is_control(self) -> bool:
        """A judge's control (a blank or noise image judged against a case): it guards the judge and is no
        output of the model, so it never enters pass rates, floors or comparisons."""
        return self.kind == "control"
