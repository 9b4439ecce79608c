"""The `code` judge: does generated code parse, pass the case's tests (run by pytest in the sandbox) and stay
clear of bandit's findings; and does the model's own answer about its security agree (false assurance). The
primitives it applies are in grounding.judges.functional (code, bandit, descriptions, self_description).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from grounding.judges._accounts import Probe, describe, describer_identity, forced_choice, probes, scored_by
from grounding.judges._registry import JudgeContext, Judged
from grounding.judges.functional.self_description import code_truth, security_account
from grounding.results.store import Store
from grounding.running._generation import Generated
from grounding.types import Artifact, Case, Score


def code_scores(adapter, generated: Generated, cases: dict[str, Case], store: Store, model_hash: str,
                settings=None) -> list[list[Score]]:
    from grounding.judges.functional.code import bandit_options, judge_code, sandbox_options
    from grounding.judges.functional.descriptions import read_security_claims, read_yes_no

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
class CodeJudge:
    """The `code` judge: parse, the case's tests run by pytest in the sandbox, bandit at the case's thresholds,
    and the model's blind and primed answers about its code's security against them (false assurance)."""

    name: str = "code"
    reads: str = "code"
    version: str = "1"

    def identity(self, context: JudgeContext) -> dict:
        """The describing model, bandit, the Python and pytest the sandbox runs, its confinement (the score cache)."""
        import sys

        from grounding.running._score_cache import package_version

        return {**describer_identity(context), "bandit": package_version("bandit"), "pytest": package_version("pytest"),
                "python": sys.version, "weak_sandbox": context.settings.allow_weak_sandbox}

    def judge(self, artifacts: Sequence[Artifact], cases: Mapping[str, Case], context: JudgeContext) -> Judged:
        return scored_by(code_scores, artifacts, cases, context)
