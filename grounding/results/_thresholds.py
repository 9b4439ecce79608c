"""When a fall against a baseline counts (no numpy here: the store checks stored thresholds with it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """When a fall counts: significance level and the tolerances below which a fall is ignored."""

    confidence: float = 0.95
    tolerance: float = 0.25  # per case: fall of the pass rate
    concept_tolerance: float = 0.05  # per slice: fall of the share of outputs that pass
    clip_tolerance: float = 0.1  # fall of the mean CLIPScore, per case and per slice

    @property
    def alpha(self) -> float:
        return 1 - self.confidence
