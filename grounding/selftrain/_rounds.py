"""The self-training harness: the reference models fine-tuned on their own outputs, round after round, with
the gate run after each round against round 0 and the previous round.

    grounding selftrain --model fixtures/checkpoints --rounds 3 --workdir runs/mad

Each round, every model under --model that the harness can train learns from its own outputs for fresh
shapes-world instructions (_own_outputs.py): the text-to-image pipeline from its images (_finetune_diffusion.py),
the language model from its drawings, its code and its own descriptions of them (_finetune_language.py). A
`fresh` share of each training set comes from the shapes world instead. The round is saved as
workdir/round-N (one folder per model and a grounding.toml naming them) and gated. No filter is applied to
the generations: a judge used as a training filter becomes a training target.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grounding.errors import GroundingUsageError
from grounding.gate import GateVerdict, gate
from grounding.inputs._cases import load_cases
from grounding.inputs._checkpoint import Checkpoint, resolve
from grounding.results import compare_runs
from grounding.results.store import Store

MANIFEST = "grounding.toml"
LANGUAGE_MODALITIES = ("ascii-art", "code")  # the modalities the language-model recipe fine-tunes
FOLDERS = {"text-to-image": "pipeline", **{m: "language-model" for m in LANGUAGE_MODALITIES}}


@dataclass(frozen=True)
class SelfTrainConfig:
    model: Path
    rounds: int
    workdir: Path
    images: int = 512  # text-to-image training images per round
    texts: int = 512  # language-model training exchanges per round
    steps: int = 300  # fine-tuning steps per round and model
    batch: int = 32  # text-to-image batch; the language model's is `batch` too
    lr: float = 1e-4  # text-to-image fine-tuning learning rate
    lm_lr: float = 1e-4  # language-model fine-tuning learning rate
    temperature: float = 1.0  # the language model samples its own training answers at this temperature
    fresh: float = 0.0  # share of fresh shapes-world data in each round's training sets
    seeds: int = 4  # the gate's generations per case
    seed: int = 0
    device: str | None = None
    cases: tuple[Path, ...] = ()  # the gate's case files, each for the modality it names (default: the suites')


@dataclass(frozen=True)
class RoundResult:
    round: int
    model: Path
    against_round0: GateVerdict
    fell_since_previous: str  # the significant regressions against the previous round, as lines


def trainable(model: Path) -> tuple[Checkpoint, ...]:
    """The checkpoints under `model` that the harness fine-tunes: a diffusers text-to-image pipeline, and one
    causal language model serving the ASCII-art and code modalities."""
    found = tuple(c for c in resolve(model) if c.modality in FOLDERS)
    language = {c.path for c in found if c.modality in LANGUAGE_MODALITIES}
    if len(language) > 1:
        raise GroundingUsageError(
            f"selftrain --model {model}: its ASCII-art and code modalities name different language models "
            f"({', '.join(sorted(map(str, language)))}). The harness trains one language model on both; point "
            f"both tables of grounding.toml at the same folder, or self-train each model separately.")
    if not found:
        raise GroundingUsageError(
            f"selftrain --model {model}: no text-to-image pipeline or causal language model there. Pass a "
            f"diffusers pipeline folder, a transformers causal LM folder, or a folder whose grounding.toml "
            f"names them, e.g. fixtures/checkpoints.")
    return found


def _save_manifest(checkpoints: tuple[Checkpoint, ...], folder: Path) -> Path:
    """The round's grounding.toml: each modality's new folder, with the original generation settings."""
    worlds = {c.world for c in checkpoints} - {None}
    lines = [f'world = "{worlds.pop()}"', ""] if len(worlds) == 1 else []
    for checkpoint in checkpoints:
        lines += [f"[modalities.{checkpoint.modality}]", f'path = "{FOLDERS[checkpoint.modality]}"']
        lines += [f"{key} = {_toml(value)}" for key, value in checkpoint.settings.items()] + [""]
    (folder / MANIFEST).write_text("\n".join(lines))
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


def _train_pipeline(checkpoint: Checkpoint, config: SelfTrainConfig, rng: random.Random, seed: int, out: Path) -> None:
    from grounding.adapters._protocol import load_adapter
    from grounding.selftrain._finetune_diffusion import fine_tune
    from grounding.selftrain._own_outputs import image_training_set

    adapter = load_adapter(checkpoint.modality, checkpoint.path, device=config.device, settings=checkpoint.settings)
    images, captions = image_training_set(adapter, config.images, config.fresh, rng)
    del adapter
    fine_tune(checkpoint.path, out, images, captions, steps=config.steps, lr=config.lr, batch=config.batch, seed=seed,
              device=config.device)


def _train_language_model(checkpoints: list[Checkpoint], config: SelfTrainConfig, rng: random.Random, seed: int,
                          out: Path) -> None:
    """One language model, trained on the own outputs of every modality it serves, sampled at `temperature`."""
    from grounding.adapters._protocol import load_adapter
    from grounding.selftrain._finetune_language import fine_tune
    from grounding.selftrain._own_outputs import conversation_training_set

    sampling = {"temperature": config.temperature}
    adapters = {c.modality: load_adapter(c.modality, c.path, device=config.device, settings={**c.settings, **sampling})
                for c in checkpoints}
    pairs = conversation_training_set(adapters, config.texts, config.fresh, rng)
    del adapters
    fine_tune(checkpoints[0].path, out, pairs, steps=config.steps, lr=config.lm_lr, batch=config.batch, seed=seed,
              device=config.device)


def _train_round(previous: tuple[Checkpoint, ...], config: SelfTrainConfig, round_: int, folder: Path) -> None:
    """Fine-tune each model of the previous round on its own outputs into `folder`."""
    # bandit B311: seeded sampling of training data, reproducible on purpose; no secret comes from it
    rng, seed = random.Random(config.seed * 1000 + round_), config.seed * 1000 + round_  # nosec B311
    for checkpoint in previous:
        if checkpoint.modality == "text-to-image":
            _train_pipeline(checkpoint, config, rng, seed, folder / FOLDERS["text-to-image"])
    language = [c for c in previous if c.modality in LANGUAGE_MODALITIES]
    if language:
        _train_language_model(language, config, rng, seed, folder / FOLDERS[language[0].modality])


def selftrain(config: SelfTrainConfig, log: Callable[[str], None] = print) -> list[RoundResult]:
    """Round 0 is the given model; each later round is fine-tuned on the previous round's own outputs. Stops
    early when the gate against round 0 fails. Returns one result per round after round 0."""
    if config.rounds < 1 or config.images < 1 or config.texts < 1 or config.steps < 0 or not 0 <= config.fresh <= 1:
        raise GroundingUsageError("selftrain: --rounds, --images and --texts must be at least 1, --steps at least "
                                  "0, and --fresh between 0 and 1.")
    original = trainable(config.model)
    store = config.workdir / "store"
    if (store / "grounding.sqlite").exists():
        raise GroundingUsageError(f"selftrain --workdir {config.workdir}: it already holds a self-training run. "
                                  f"Pass a new folder (or delete this one) so that rounds are not mixed.")
    modalities = [c.modality for c in original]
    cases = {load_cases(path)[0].modality: path for path in config.cases}
    common = dict(store=store, modalities=modalities, cases=cases, seeds=config.seeds, device=config.device)
    first = gate(config.model, baseline=None, round="0", **common)
    log(f"round 0: {config.model} ({', '.join(modalities)}) stored as run {first.run_id}")
    previous, results = original, []
    for round_ in range(1, config.rounds + 1):
        folder = config.workdir / f"round-{round_}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        _train_round(previous, config, round_, folder)
        model = _save_manifest(original, folder)
        verdict = gate(model, baseline="0", round=str(round_), **common)
        moved = _fell_since_previous(store, verdict.run_id, round_) if round_ > 1 else []
        results.append(RoundResult(round_, model, verdict, "\n".join(moved)))
        log(verdict.summary() + ("\n" + "\n".join(moved) if moved else ""))
        if not verdict.passed:
            log(f"selftrain: the gate failed at round {round_}; stopping.")
            break
        previous = resolve(model)
    return results
