"""One modality's pass through the data flow: generate (cached) -> artifacts -> judges -> records."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from grounding.adapters._protocol import Adapter
from grounding.errors import GroundingUsageError
from grounding.results.store import Store, artifact_ref
from grounding.types import KINDS, Artifact, Case, Record, Score


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


def sample_seed(prompt: str, seed: int) -> int:
    """The seed an adapter is given for one prompt at one of the run's seeds: a hash of both, so that no two
    prompts start from the same noise. With shared noise one unlucky seed fails many cases at once (a healthy
    retrain failed 11 of 60 cases on one seed, 8 of them red), and the paired tests, which take cases as
    independent units, cried wolf. Reproduce an output with the adapter and this seed."""
    digest = hashlib.sha256(f"{seed}\n{prompt}".encode()).digest()
    return int.from_bytes(digest[:4], "big")  # below 2**32: any torch or numpy generator takes it


def generation_key(model_hash: str, adapter: Adapter, prompt: str, seed: int) -> str:
    """Keyed by the weights' content, never by path or name, so one model's outputs never stand for another's;
    `seed` is the adapter's (sample_seed)."""
    payload = {"model": model_hash, "modality": adapter.modality, "settings": dict(adapter.settings),
               "prompt": prompt, "seed": seed}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


Progress = Callable[[str, bool], None]  # (line, final): a line on the terminal, rewritten until final
CHUNK = 64  # most outputs asked of an adapter at once: progress shows between chunks; the adapter batches inside
CHUNK_SECONDS = 5.0  # chunks of whole batches shrink towards this, so that a slow model still shows progress


@dataclass
class Meter:
    """One phase's progress (generating, or judging with one judge) as lines: done/total outputs, outputs/s
    and the time left at that rate."""

    progress: Progress | None
    what: str  # "text-to-image: generated", "code: judged by code"
    note: str = ""  # after the count: "(12 from cache)"
    started: float = field(default_factory=time.perf_counter)

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            return
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f"ETA {duration((total - done) / rate)}" if rate > 0 and done < total else f"in {duration(elapsed)}"
        self.progress(f"{self.what} {done}/{total} outputs{self.note}, {rate:.1f} outputs/s, {left}", False)


def duration(seconds: float) -> str:
    """1m05s, 42s, 1h02m."""
    whole = int(round(seconds))
    hours, minutes, secs = whole // 3600, whole // 60 % 60, whole % 60
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def chunk_size(batch: int | None, rate: float | None) -> int:
    """Outputs to ask of an adapter next: whole batches (its declared `batch_size`) as many as take about
    CHUNK_SECONDS at the rate so far, one batch before any was measured, at most CHUNK (or one batch)."""
    if not batch:
        return CHUNK
    if rate is None:
        return batch
    return max(batch, min(CHUNK, int(rate * CHUNK_SECONDS)) // batch * batch)


def generate(adapter: Adapter, cases: Sequence[Case], seeds: Sequence[int], store: Store,
             model_hash: str, progress: Progress | None = None) -> Generated:
    """Every (case, seed) output, from the cache when the same model made it before."""
    jobs = [(case.id, case.instruction, seed) for case in cases for seed in seeds]
    return cached_outputs(adapter, jobs, adapter.generate, store, model_hash, adapter.suffix, progress)


def cached_outputs(adapter: Adapter, jobs: Sequence[tuple[str, str, int]],
                   make: Callable[[list[str], list[int]], list[bytes]], store: Store, model_hash: str,
                   suffix: str, progress: Progress | None = None) -> Generated:
    """Outputs for (case id, prompt, seed) jobs: cached ones read back, the rest made in chunks and stored (an
    output depends on its prompt and seed only, never on its batch). The adapter is given each prompt's own
    seed (sample_seed); artifacts keep the run's seed."""
    keyed = [(case_id, seed, generation_key(model_hash, adapter, prompt, sample_seed(prompt, seed)), prompt)
             for case_id, prompt, seed in jobs]
    hits = {key: store.cached_generation(key) for _, _, key, _ in keyed}
    missing = list({key: (prompt, sample_seed(prompt, seed)) for _, seed, key, prompt in keyed
                    if hits[key] is None}.items())
    fresh = {}
    meter = Meter(progress, f"{adapter.modality}: generated", f" ({len(keyed) - len(missing)} from cache)")
    batch = adapter.settings.get("batch_size") if missing else None
    done, rate = 0, None
    while done < len(missing):
        chunk = missing[done:done + chunk_size(batch if isinstance(batch, int) else None, rate)]
        outputs = make([prompt for _, (prompt, _) in chunk], [seed for _, (_, seed) in chunk])
        written = [(key, *store.write_artifact(data, suffix)) for (key, _), data in zip(chunk, outputs)]
        store.remember_generations(written)
        fresh |= {key: (path, sha) for key, path, sha in written}
        done += len(chunk)
        rate = done / max(time.perf_counter() - meter.started, 1e-9)
        meter(done, len(missing))
    artifacts = []
    for case_id, seed, key, _ in keyed:
        path, sha = hits[key] or fresh[key]
        artifacts.append(Artifact(case_id, seed, path, sha, cached=hits[key] is not None))
    return Generated(tuple(artifacts))


def to_records(run: RunInfo, modality: str, artifact: Artifact, scores: Sequence[Score]) -> list[Record]:
    wrong = next((s for s in scores if s.kind not in KINDS), None)
    if wrong is not None:
        raise GroundingUsageError(
            f"The {wrong.judge!r} judge returned a score of kind {wrong.kind!r} for {modality} case "
            f"{artifact.case_id!r}; a Score's kind is 'output' (the model's output) or 'control' (a check the "
            f"judge made of itself). Fix the judge; nothing of this run was stored.")
    return [Record(run.run_id, run.round, run.model_hash, modality, artifact.case_id, artifact.seed, s.judge,
                   s.metric, s.value, s.passed, artifact_ref(artifact.path), s.explanation, s.kind, artifact.sha256)
            for s in scores]
