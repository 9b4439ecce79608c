"""The judge protocol and its discovery through the `grounding.judges` entry-point group.

A judge reads one kind of artifact (an adapter declares the kind it writes: `Adapter.kind`, else its modality's
name) and returns frozen Scores per artifact. A modality is an adapter + judges for its kind + a case file; no
core module names it. Register a judge in your package's pyproject.toml:

    [project.entry-points."grounding.judges"]
    svg-validity = "my_package.judges:SvgValidity"   # a class (or factory) called with no arguments

and it judges every run of a modality whose adapter writes that kind (`grounding modalities` lists them).

A judge that also has `identity(context) -> dict` (what its scores depend on besides the output and its case:
weights hashes, settings, library versions) has its scores cached in the store (running/_score_cache.py): an
unchanged rerun judges nothing again, and `grounding rescore` judges stored outputs without the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence, runtime_checkable

from grounding.errors import GroundingUsageError
from grounding.types import Artifact, Case, Score

if TYPE_CHECKING:
    from grounding.results.store import Store
    from grounding.settings import Settings

GROUP = "grounding.judges"


@dataclass(frozen=True)
class JudgeContext:
    """What a judge may use besides the artifacts and their cases: the adapter (a judge that asks the model about
    its own outputs; loaded on first use), the run's settings, the store (artifacts a judge makes, such as control
    images, and embeddings for the distribution comparison), the model's weights hash and its declared world
    (an oracle judges only outputs of its world)."""

    adapter: Any
    settings: Settings
    store: Store
    model_hash: str
    world: str | None


Judged = list[tuple[Artifact, Sequence[Score]]]


@runtime_checkable
class Judge(Protocol):
    """Judges artifacts of one kind. `judge` returns (artifact, scores) pairs: usually one per artifact given,
    in order; a judge may add artifacts of its own (control images that guard it)."""

    name: str
    reads: str  # the artifact kind, as adapters declare it: "image", "ascii-art", "code", ...
    version: str

    def judge(self, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
        ...


def kind_of(adapter: Any) -> str:
    """The artifact kind an adapter writes: its `kind`, else its modality's name."""
    return getattr(adapter, "kind", None) or adapter.modality


def installed() -> dict[str, Judge]:
    """Every registered judge by name, loaded and checked against the protocol."""
    judges = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            judge = ep.load()()
        except Exception as error:  # a broken plugin is named, not a traceback from deep inside importlib
            raise GroundingUsageError(
                f"The judge {ep.name!r} registered under `{GROUP}` as {ep.value!r} could not be loaded "
                f"({type(error).__name__}: {error}). Fix or uninstall the package that registers it.") from error
        if not isinstance(judge, Judge) or not isinstance(judge.reads, str):
            raise GroundingUsageError(
                f"The judge {ep.name!r} registered under `{GROUP}` as {ep.value!r} is not a judge: it needs "
                f"`name`, `reads` (an artifact kind), `version` and `judge(artifacts, cases, context)`. Fix the "
                f"package that registers it.")
        judges[ep.name] = judge
    return judges


def judges_for(kind: str, modality: str) -> list[Judge]:
    """The installed judges of an artifact kind; refused clearly when there are none."""
    judges = installed()
    chosen = [j for j in judges.values() if j.reads == kind]
    if not chosen:
        kinds = sorted({j.reads for j in judges.values()})
        raise GroundingUsageError(
            f"Modality {modality!r} writes {kind!r} artifacts and no installed judge reads them (judges read: "
            f"{', '.join(kinds) or 'nothing'}). Register a judge for {kind!r} under the `{GROUP}` entry-point "
            f"group (see `grounding modalities`), or point --model at a checkpoint of a judged modality.")
    return chosen
