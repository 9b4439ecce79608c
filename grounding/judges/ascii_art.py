"""The `ascii-art` judge: what a language model's ASCII art shows and its own account of it.

Each output is read by the shapes-world oracle (the verdict) and, rendered, by the ASCII CLIP judge; then the
model describes it blind, primed with its instruction and primed with a contrast it did not follow (a healthy
describer still describes what is there). The primitives it applies are in grounding.judges.functional.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from grounding.judges._accounts import Probe, describe, describer_identity, forced_choice, probes, scored_by
from grounding.judges._registry import JudgeContext, Judged
from grounding.judges.functional.self_description import shape_account
from grounding.results.store import Store
from grounding.running._generation import Generated
from grounding.types import Artifact, Case, Score


def ascii_scores(adapter, generated: Generated, cases: dict[str, Case], store: Store, model_hash: str,
                 settings=None) -> list[list[Score]]:
    from grounding.judges.functional.ascii_art import judge_seen, size_rule, spec_for
    from grounding.judges.functional.descriptions import read_choices, read_shape_descriptions
    from grounding.shapes_world.ascii import ALL_ASCII_SPECS, read_ascii

    artifacts = generated.artifacts
    texts = [a.path.read_text() for a in artifacts]
    seen = [read_ascii(t, size_rule(cases[a.case_id].expect)) for t, a in zip(texts, artifacts)]
    specs = [spec_for(cases[a.case_id].instruction, cases[a.case_id].expect) for a in artifacts]
    out = [judge_seen(s, spec) for s, spec in zip(seen, specs)]
    for i, scores in clip_on_renderings(texts, specs).items():
        out[i] += scores
    truths = [s.spec for s in seen]
    asked = probes(artifacts, cases, counterfactual=True)
    answers = describe(adapter, artifacts, texts, asked, store, model_hash)
    labels = [spec.label() for spec in ALL_ASCII_SPECS]
    _shape_accounts(out, truths, asked, answers, read_shape_descriptions(answers, labels), "free")
    if forced_choice(adapter, settings):
        asked = probes(artifacts, cases, counterfactual=False)
        answers = describe(adapter, artifacts, texts, asked, store, model_hash, options=[*labels, "none"])
        _shape_accounts(out, truths, asked, answers, read_choices(answers, labels), "choice")
    return out


def _shape_accounts(out: list[list[Score]], truths: Sequence, asked: Sequence[Probe], answers: Sequence[str],
                    readings: Sequence, family: str) -> None:
    """Add to each output's scores those of its answers of one family about what its art shows (`truths`: the
    oracle's reading per output)."""
    for probe, answer, reading in zip(asked, answers, readings):
        if truths[probe.index] is not None:  # else nothing recognisable: the oracle's verdict already fails it
            out[probe.index] += shape_account(truths[probe.index], answer, reading, probe.kind, probe.instruction,
                                              family)


def clip_on_renderings(texts: Sequence[str], specs: Sequence) -> dict[int, list[Score]]:
    """CLIP agreement on the rendered art (the bundled ASCII judge): CLIPScore against the instruction's label,
    and whether the label outranks its one-word contrasts and the null prompts. Keyed by output index; outputs
    whose instruction names no shapes-world picture are not scored."""
    from grounding.judges.functional.ascii_art import ascii_art_of, ascii_image
    from grounding.judges.functional.clip import (ASCII_JUDGE, GATING_ACCURACY, held_out_accuracy, load_clip_judge,
                                                  score_images)
    from grounding.shapes_world.ascii import ascii_caption, ascii_contrasts

    wanted = [i for i, spec in enumerate(specs) if spec is not None and spec.shape not in ("rectangle", "diamond")]
    if not wanted:
        return {}
    judge = load_clip_judge(str(ASCII_JUDGE))
    scored = score_images(judge, [ascii_image(ascii_art_of(texts[i])) for i in wanted],
                          [ascii_caption(specs[i]) for i in wanted],
                          [ascii_contrasts(specs[i]) for i in wanted])
    accuracy = held_out_accuracy(ASCII_JUDGE)
    if accuracy is not None and accuracy >= GATING_ACCURACY:
        return {i: list(pair) for i, pair in zip(wanted, scored)}
    why = ("reported, not gating: its accuracy on held-out ASCII art by other hands is "
           + ("unmeasured" if accuracy is None else f"{accuracy:.2f}") + f", under {GATING_ACCURACY}")
    return {i: [clip_score, replace(rank, passed=None, explanation=f"{rank.explanation} ({why})",
                                    metadata={**rank.metadata, "gating": False})]
            for i, (clip_score, rank) in zip(wanted, scored)}


@dataclass(frozen=True)
class AsciiArtJudge:
    """The `ascii-art` judge: the shapes oracle's reading of the art (the verdict), the ASCII CLIP judge on its
    rendering (reported; gating only at its measured held-out accuracy), and the model's blind, primed and
    counterfactual descriptions of its own art against that reading."""

    name: str = "ascii-art"
    reads: str = "ascii-art"
    version: str = "1"

    def identity(self, context: JudgeContext) -> dict:
        """The describing model, the world's code, the ASCII CLIP judge's weights, the text reader (the score cache)."""
        from grounding.inputs._checkpoint import content_hash
        from grounding.judges.functional.clip import ASCII_JUDGE
        from grounding.running._score_cache import package_fingerprint

        return {**describer_identity(context), "shapes_world": package_fingerprint("grounding.shapes_world"),
                "ascii_clip": content_hash(ASCII_JUDGE)}

    def judge(self, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
        return scored_by(ascii_scores, artifacts, cases, context)
