"""One modality's pass through the data flow: generate (cached) -> artifacts -> judges -> records."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Sequence

from .adapters import Adapter
from .store import Store
from .types import Artifact, Case, Record, Score


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    round: str
    model_hash: str


@dataclass(frozen=True)
class Generated:
    artifacts: tuple[Artifact, ...]

    @property
    def from_cache(self) -> int:
        return sum(a.cached for a in self.artifacts)


def generation_key(model_hash: str, adapter: Adapter, prompt: str, seed: int) -> str:
    """Keyed by the weights' content, never by path or name, so one model's outputs never stand for another's."""
    payload = {"model": model_hash, "modality": adapter.modality, "settings": dict(adapter.settings),
               "prompt": prompt, "seed": seed}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def generate(adapter: Adapter, cases: Sequence[Case], seeds: Sequence[int], store: Store,
             model_hash: str) -> Generated:
    """Every (case, seed) output, from the cache when the same model made it before."""
    jobs = [(case, seed, generation_key(model_hash, adapter, case.instruction, seed)) for case in cases for seed in seeds]
    hits = {key: store.cached_generation(key) for _, _, key in jobs}
    missing = [(case, seed, key) for case, seed, key in jobs if hits[key] is None]
    fresh = {}
    if missing:
        outputs = adapter.generate([c.instruction for c, _, _ in missing], [s for _, s, _ in missing])
        written = [(key, *store.write_artifact(data, adapter.suffix)) for (_, _, key), data in zip(missing, outputs)]
        store.remember_generations(written)
        fresh = {key: (path, sha) for key, path, sha in written}
    artifacts = []
    for case, seed, key in jobs:
        path, sha = hits[key] or fresh[key]
        artifacts.append(Artifact(case.id, seed, path, sha, cached=hits[key] is not None))
    return Generated(tuple(artifacts))


def to_records(run: RunInfo, modality: str, artifact: Artifact, scores: Sequence[Score]) -> list[Record]:
    return [Record(run.run_id, run.round, run.model_hash, modality, artifact.case_id, artifact.seed, s.judge,
                   s.metric, s.value, s.passed, str(artifact.path), s.explanation) for s in scores]
