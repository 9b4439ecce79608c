"""What one pytest session computes for a modality, and the state it appends to the store at the end."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .checkpoint import Checkpoint, content_hash
from .errors import GroundingUsageError
from .evaluate import RunInfo, generate, to_records
from .settings import Settings
from .store import Store
from .types import Artifact, Case, Record
from .verdicts import CaseVerdict, case_verdict


@dataclass
class RunState:
    """Accumulates this session's records; written to the store in one transaction when the session ends."""

    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    started: float = field(default_factory=time.time)
    records: list[Record] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)
    generation: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ModalityResults:
    """Records of one modality in this run, with the baseline's, ready to give verdicts."""

    cases: dict[str, Case]
    records: dict[str, list[Record]]
    baseline: dict[str, list[Record]] | None
    settings: Settings

    def verdict(self, case_id: str) -> CaseVerdict:
        return case_verdict(
            self.cases[case_id], [r for r in self.records.get(case_id, []) if not r.judge.endswith("-control")],
            min_pass_rate=self.settings.min_pass_rate, tolerance=self.settings.tolerance,
            clip_tolerance=self.settings.clip_tolerance,
            baseline=None if self.baseline is None else self.baseline.get(case_id, []))

    def controls(self, case_id: str) -> list[Record]:
        return [r for r in self.records.get(case_id, []) if r.judge.endswith("-control")]


def baseline_records(ref: str, store: Store, modality: str) -> dict[str, list[Record]]:
    """A baseline's records by case: a run id or round label in this store, or another store's latest run."""
    other = Path(ref).expanduser()
    source = Store(other) if (other / "grounding.sqlite").is_file() else store
    run_id = source.find_run(ref) if source is store else (source.runs() or [{}])[-1].get("run_id")
    if run_id is None:
        known = ", ".join(sorted({r["round"] for r in store.runs()})) or "none yet"
        raise GroundingUsageError(
            f"--baseline {ref}: no run with that id or round label in {store.root}, and no store folder by that "
            f"name (rounds in the store: {known}). Run the suite with --round {ref} first, or name an existing one."
        )
    out: dict[str, list[Record]] = {}
    for record in source.records(run_id):
        if record.modality == modality and not record.judge.endswith("-control"):
            out.setdefault(record.case_id, []).append(record)
    return out


def run_modality(checkpoint: Checkpoint, cases: Sequence[Case], settings: Settings, store: Store,
                 state: RunState) -> list[Record]:
    """Generate (cached), then judge the outputs with the judges of their modality."""
    from .adapters import load_adapter

    if checkpoint.modality not in JUDGES:
        raise GroundingUsageError(
            f"Modality {checkpoint.modality!r} has no judges in this version of grounding (it judges "
            f"{', '.join(sorted(JUDGES))}). Point --model at a checkpoint of one of those, or list only those in "
            f"grounding.toml.")
    model_hash = content_hash(checkpoint.path)
    state.models[checkpoint.modality] = model_hash
    run = RunInfo(state.run_id, settings.round, model_hash)
    adapter = load_adapter(checkpoint.modality, checkpoint.path, device=settings.device,
                           allow_pickle=settings.allow_pickle, settings=checkpoint.settings)
    generated = generate(adapter, cases, range(settings.seeds), store, model_hash)
    state.generation[checkpoint.modality] = {"artifacts": len(generated.artifacts),
                                             "from_cache": generated.from_cache}
    return JUDGES[checkpoint.modality](adapter, generated, {c.id: c for c in cases}, settings, store, run)


def _image_records(adapter, generated, cases: dict[str, Case], settings: Settings, store: Store,
                   run: RunInfo) -> list[Record]:
    """CLIP and the oracle where it applies, plus the CLIP judge's controls."""
    from PIL import Image

    from .image_judging import control_images, judge_controls, judge_images
    from .judges.clip import load_clip_judge

    judge = load_clip_judge(settings.judge, device=settings.device)
    records = []
    for artifact, scores in zip(generated.artifacts, judge_images(judge, generated.artifacts, cases)):
        records += to_records(run, adapter.modality, artifact, scores)
    size = Image.open(generated.artifacts[0].path).size
    controls = [Artifact(name, 0, *store.write_artifact(data, ".png"), False)
                for name, data in control_images(size).items()]
    for artifact, score in judge_controls(judge, controls, list(cases.values())):
        records += to_records(run, adapter.modality, artifact, [score])
    return records


def _ascii_records(adapter, generated, cases: dict[str, Case], settings: Settings, store: Store,
                   run: RunInfo) -> list[Record]:
    from .text_judging import ascii_scores

    scored = ascii_scores(adapter, generated, cases, store, run.model_hash)
    return [r for a, scores in zip(generated.artifacts, scored) for r in to_records(run, adapter.modality, a, scores)]


def _code_records(adapter, generated, cases: dict[str, Case], settings: Settings, store: Store,
                  run: RunInfo) -> list[Record]:
    from .text_judging import code_scores

    scored = code_scores(adapter, generated, cases, store, run.model_hash)
    return [r for a, scores in zip(generated.artifacts, scored) for r in to_records(run, adapter.modality, a, scores)]


JUDGES = {"text-to-image": _image_records, "ascii-art": _ascii_records, "code": _code_records}
