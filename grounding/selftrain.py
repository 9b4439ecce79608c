"""The self-training harness: a text-to-image model fine-tuned on its own generations, round after round, with
the gate run after each round against round 0 and the previous round.

    grounding selftrain --model fixtures/checkpoints/shapes-t2i --rounds 3 --workdir runs/mad

Each round generates images for fresh shapes-world captions with the current model, optionally replaces a
share of them by freshly rendered shapes-world scenes (`fresh`: the published remedy that slows the drift of a
self-consuming loop), fine-tunes the model on them (finetune.py) and saves it as workdir/round-N, then gates it.
No filter is applied to the generations: a judge used as a training filter becomes a training target, and the
gate's judges must stay independent of training.
"""

from __future__ import annotations

import io
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .checkpoint import resolve
from .compare import compare_runs
from .errors import GroundingUsageError
from .gate import GateVerdict, gate
from .store import Store

MANIFEST = "grounding.toml"


@dataclass(frozen=True)
class SelfTrainConfig:
    model: Path
    rounds: int
    workdir: Path
    images: int = 512  # training images per round
    steps: int = 300  # fine-tuning steps per round
    batch: int = 32
    lr: float = 1e-4
    fresh: float = 0.0  # share of freshly rendered shapes-world scenes in each round's training set
    seeds: int = 4  # the gate's generations per case
    seed: int = 0
    device: str | None = None
    cases: Path | None = None  # the gate's text-to-image case file (default: the suite's)


@dataclass(frozen=True)
class RoundResult:
    round: int
    model: Path
    against_round0: GateVerdict
    fell_since_previous: str  # the significant regressions against the previous round, as lines


def _training_set(adapter, config: SelfTrainConfig, round_: int) -> tuple[list, list[str]]:
    """Captions from the shapes-world grammar; images from the model, a `fresh` share rendered instead."""
    from PIL import Image
    from shapes_world import caption, random_spec, render

    rng = random.Random(config.seed * 1000 + round_)
    specs = [random_spec(rng) for _ in range(config.images)]
    captions = [caption(s) for s in specs]
    fresh = round(config.fresh * config.images)
    images = [render(s, rng) for s in specs[:fresh]]
    made = adapter.generate(captions[fresh:], [rng.randrange(2 ** 31) for _ in captions[fresh:]])
    images += [Image.open(io.BytesIO(data)).convert("RGB") for data in made]
    return images, captions


def _save_round(checkpoint, folder: Path) -> Path:
    """The round's model folder: the pipeline, plus a grounding.toml keeping the original generation settings."""
    lines = ["[modalities.text-to-image]", 'path = "pipeline"']
    lines += [f"{key} = {_toml(value)}" for key, value in checkpoint.settings.items()]
    (folder / MANIFEST).write_text("\n".join(lines) + "\n")
    return folder


def _toml(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, (int, float)) else json.dumps(str(value))


def _fell_since_previous(store: Path, run_id: str, round_: int) -> list[str]:
    opened = Store(store)
    try:
        comparisons = compare_runs(opened, run_id, str(round_ - 1))
    finally:
        opened.close()
    return [f"  vs round {round_ - 1}: {s.line()}" for c in comparisons for s in c.regressions]


def selftrain(config: SelfTrainConfig, log: Callable[[str], None] = print) -> list[RoundResult]:
    """Round 0 is the given model; each later round is fine-tuned on the previous round's generations. Stops
    early when the gate against round 0 fails. Returns one result per round after round 0."""
    from .adapters import load_adapter
    from .finetune import fine_tune

    if config.rounds < 1 or config.images < 1 or config.steps < 0 or not 0 <= config.fresh <= 1:
        raise GroundingUsageError("selftrain: --rounds and --images must be at least 1, --steps at least 0, and "
                                  "--fresh between 0 and 1.")
    checkpoint = next((c for c in resolve(config.model) if c.modality == "text-to-image"), None)
    if checkpoint is None:
        raise GroundingUsageError(f"selftrain --model {config.model}: no text-to-image pipeline there. Pass a "
                                  f"diffusers pipeline folder, e.g. fixtures/checkpoints/shapes-t2i.")
    store = config.workdir / "store"
    if (store / "grounding.sqlite").exists():
        raise GroundingUsageError(f"selftrain --workdir {config.workdir}: it already holds a self-training run. "
                                  f"Pass a new folder (or delete this one) so that rounds are not mixed.")
    cases = {"text-to-image": config.cases} if config.cases else None
    common = dict(store=store, modalities=["text-to-image"], cases=cases, seeds=config.seeds, device=config.device)
    first = gate(config.model, baseline=None, round="0", **common)
    log(f"round 0: {config.model} stored as run {first.run_id}")
    previous, results = checkpoint, []
    for round_ in range(1, config.rounds + 1):
        folder = config.workdir / f"round-{round_}"
        shutil.rmtree(folder, ignore_errors=True)
        adapter = load_adapter("text-to-image", previous.path, device=config.device, settings=previous.settings)
        images, captions = _training_set(adapter, config, round_)
        del adapter
        fine_tune(previous.path, folder / "pipeline", images, captions, steps=config.steps, lr=config.lr,
                  batch=config.batch, seed=config.seed * 1000 + round_, device=config.device)
        model = _save_round(checkpoint, folder)
        verdict = gate(model, baseline="0", round=str(round_), **common)
        moved = _fell_since_previous(store, verdict.run_id, round_) if round_ > 1 else []
        results.append(RoundResult(round_, model, verdict, "\n".join(moved)))
        log(verdict.summary() + ("\n" + "\n".join(moved) if moved else ""))
        if not verdict.passed:
            log(f"selftrain: the gate failed at round {round_}; stopping.")
            break
        previous = next(c for c in resolve(model) if c.modality == "text-to-image")
    return results
