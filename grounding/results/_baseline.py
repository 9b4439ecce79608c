"""The run a comparison is against, found in the store: a round label or run id, or another store folder; its
records, the embeddings both stores kept of the outputs, and round 0 for precision and recall."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from grounding.errors import GroundingUsageError
from grounding.inputs._paths import user_path
from grounding.results._comparison import ModalityComparison, compare, with_origin
from grounding.results._thresholds import Thresholds
from grounding.results.store import Store, artifact_sha
from grounding.types import Case, Record


@dataclass(frozen=True)
class Baseline:
    """The run a comparison is against, and the store folder that holds its artifacts' embeddings."""

    name: str
    records: tuple[Record, ...]
    root: Path
    run_id: str = ""
    round: str = ""
    model: str = ""

    def described(self) -> str:
        return f"run {self.run_id} (round {self.round!r}, model {self.model})"

    def check_seeds(self, seeds: range) -> None:
        """A comparison pairs outputs of the same seed: a run on none of the baseline's seeds compares nothing."""
        used = sorted({r.seed for r in self.records})
        if used and not set(used) & set(seeds):
            shown = f"{used[0]}-{used[-1]}" if len(used) > 1 else str(used[0])
            raise GroundingUsageError(
                f"--baseline {self.name}: it judged seeds {shown} and this run judges seeds {seeds.start}-"
                f"{seeds.stop - 1}, so no output pairs with the baseline's and nothing could be compared. Compare "
                f"on the baseline's seeds (--seed-start {used[0]}), or record a baseline on these seeds first "
                f"(run the baseline model with --seed-start {seeds.start} and a --round label).")

    def check_pairs(self, modality: str, this_run: str, wanted: Iterable[tuple[str, int]] | None = None) -> None:
        """A comparison pairs outputs of the same case and seed: when no output of `modality` can pair (the baseline
        holds none, or none of the (case id, seed) `wanted`), it would compare nothing and pass, so it is refused."""
        held = {(r.case_id, r.seed) for r in self.records if r.modality == modality}
        if held and (wanted is None or held & set(wanted)):
            return
        others = ", ".join(sorted({r.modality for r in self.records})) or "none"
        what, fix = ((f"holds no {modality} output", f"Name a baseline that judged {modality}, or run only the "
                      f"modalities it holds ({others})") if not held else
                     (f"holds {modality} outputs of {len({c for c, _ in held})} cases, none of them on this run's "
                      f"cases and seeds", "Compare on the baseline's case file and seeds, or record a baseline on "
                      "these first"))
        raise GroundingUsageError(
            f"--baseline {self.name}: it names {self.described()}, which {what}, so {this_run} has no {modality} "
            f"output to pair with it and the comparison would pass on no evidence. {fix}.")


def load_baseline(ref: str, store: Store, *, compared: str | None = None) -> Baseline:
    """A run id or round label in this store (its latest run), or another store folder (its latest run). For a
    stored run `compared` (a run id), a round label never means `compared` itself and prefers the latest run that
    started before it: a run labelled like its baseline (`--round 0 --baseline 0`) is read against what it was
    compared with at run time."""
    other = user_path(ref)
    source = Store(other, writable=False, option="--baseline") if (other / "grounding.sqlite").is_file() else store
    try:
        run_id = source.find_run(ref, compared=compared) if source is store else \
            (source.runs() or [{}])[-1].get("run_id")
        if run_id is None:
            known = ", ".join(sorted({r["round"] for r in store.runs()})) or "none yet"
            raise GroundingUsageError(
                f"--baseline {ref}: no run with that id or round label in {store.root}, and no store folder by "
                f"that name (rounds in the store: {known}). Run the suite with --round {ref} first, or name an "
                f"existing one.")
        run = next((r for r in source.runs() if r["run_id"] == run_id), {})
        return Baseline(ref, tuple(r for r in source.records(run_id) if not r.is_control),
                        source.root, run_id, str(run.get("round", "")), str(run.get("model", "")))
    finally:
        if source is not store:
            source.close()


def _origin(store: Store, modality: str, besides: set[str]) -> tuple[str, list[Record]] | None:
    """Round 0: the label and records of the store's first run that holds this modality; None when that run
    is one of `besides` (the baseline, or this run itself)."""
    for run in store.runs():
        records = [r for r in store.records(run["run_id"]) if r.modality == modality]
        if records:
            return None if run["run_id"] in besides else (run["round"], records)
    return None


def against(baseline: Baseline, modality: str, records: Iterable[Record], cases: Mapping[str, Case], store: Store,
            thresholds: Thresholds, judge: str | None) -> ModalityComparison:
    """compare() with the embeddings both runs stored for this modality (the baseline's from its own store), and
    precision and recall against round 0 when round 0 is a third run."""
    records = list(records)
    origin = _origin(store, modality, besides={r.run_id for r in (*records, *baseline.records)})
    known = (*records, *baseline.records, *(origin[1] if origin else ()))
    shas = {artifact_sha(r.artifact) for r in known if r.modality == modality}
    current = {artifact_sha(r.artifact) for r in records if r.modality == modality}
    baseline.check_pairs(modality, _described(store, records), {(r.case_id, r.seed) for r in records
                                                                 if r.modality == modality and not r.is_control})
    embedder, vectors = _stored_embeddings(baseline, store, shas, current, judge)
    comparison = compare(modality, records, baseline.records, cases, thresholds, baseline_name=baseline.name,
                         embeddings=vectors, embedder=embedder)
    return with_origin(comparison, origin, records, vectors) if origin else comparison


def _described(store: Store, records: list[Record]) -> str:
    """The run these records belong to, as an error message names it (its model from the store once stored)."""
    if not records:
        return "this run"
    run = next((r for r in store.runs() if r["run_id"] == records[0].run_id), {})
    model = f", model {run['model']}" if run else ""
    return f"run {records[0].run_id} (round {run.get('round', records[0].round)!r}{model})"


def _stored_embeddings(baseline: Baseline, store: Store, shas: set[str], current: set[str],
                       judge: str | None) -> tuple[str, dict[str, list[float]]]:
    """The embeddings the judges stored for these artifacts (the baseline's also from its own store), from
    whichever embedder embedded the current run's outputs: the run's CLIP judge for images, else the sentence
    encoder. ("", {}) when none did."""
    from grounding.judges.functional.embeddings import TEXT_EMBEDDER, embedder_for

    for embedder in (embedder_for("image", judge), TEXT_EMBEDDER):
        vectors = store.embeddings(embedder, shas)
        if not vectors.keys() & current:
            continue
        if baseline.root.resolve() != store.root.resolve():
            other = Store(baseline.root, writable=False, option="--baseline")
            try:
                vectors |= other.embeddings(embedder, shas - vectors.keys())
            finally:
                other.close()
        return embedder, vectors
    return "", {}


def compare_runs(store: Store, run_id: str, baseline: str, thresholds: Thresholds = Thresholds(),
                 judge: str | None = None) -> list[ModalityComparison]:
    """A stored run against a baseline (a round label or run id in the store, or another store), per modality."""
    before, current = load_baseline(baseline, store, compared=run_id), store.records(run_id)
    return [against(before, modality, current, cases, store, thresholds, judge)
            for modality, cases in sorted(store.cases(run_id).items())]
