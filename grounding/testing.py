"""Conformance check for adapter authors: call it from your own tests.

    from grounding.testing import check_adapter
    def test_my_adapter():
        check_adapter("my-modality", "path/to/tiny/checkpoint")
"""

from __future__ import annotations

import json
from pathlib import Path

from grounding.adapters._protocol import Adapter, load_adapter, registered


def _require(condition: bool, problem: str) -> None:
    """An AssertionError naming the problem (not `assert`: the check must hold under python -O too)."""
    if not condition:
        raise AssertionError(problem)


def check_adapter(modality: str, checkpoint: str | Path, *, device: str | None = "cpu") -> Adapter:
    """Load through the entry point and check the protocol: registered, typed, deterministic per seed, and
    (for adapters with `describe`) one description per output, independent of the batch."""
    _require(modality in registered(), f"{modality!r} is not registered under the grounding.modalities entry points")
    adapter = load_adapter(modality, Path(checkpoint), device=device)
    _require(isinstance(adapter, Adapter), "the loaded adapter lacks modality, suffix, settings or generate")
    _require(adapter.modality == modality, f"adapter.modality is {adapter.modality!r}, registered as {modality!r}")
    _require(adapter.suffix.startswith(".") and len(adapter.suffix) > 1, "suffix must look like '.png'")
    json.dumps(dict(adapter.settings), sort_keys=True)  # settings enter the cache key: they must be JSON
    prompts, seeds = ["conformance one", "conformance two", "conformance one"], [0, 1, 0]
    outputs = adapter.generate(prompts, seeds)
    _require(len(outputs) == len(prompts), "generate must return one output per (prompt, seed)")
    _require(all(isinstance(o, bytes) and o for o in outputs), "outputs must be non-empty encoded bytes")
    _require(outputs[0] == outputs[2], "the same prompt and seed must give the same output")
    _require(adapter.generate(prompts[:1], seeds[:1])[0] == outputs[0], "output must not depend on the batch")
    describe = getattr(adapter, "describe", None)
    if describe is not None:  # an adapter that can describe its own outputs (blind, and primed)
        answers = describe(outputs[:2], [None, prompts[1]], seeds[:2])
        _require(len(answers) == 2 and all(isinstance(a, str) for a in answers), "describe returns one str per output")
        _require(describe(outputs[:1], [None], seeds[:1])[0] == answers[0], "descriptions must not depend on the batch")
    return adapter
