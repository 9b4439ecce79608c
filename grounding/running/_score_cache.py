"""The second cache level: a judge's scores for an output, keyed by everything they depend on.

The first level (_generation.cached_outputs) keeps outputs by weights, adapter settings, prompt and seed. This one
keeps what a judge said about an output, keyed by the judge's identity (its name, version, the source of the
package that ships it and what `Judge.identity(context)` adds: weights hashes, settings, library versions),
the output's content hash and seed, and its case. An unchanged rerun finds every output and every score and
judges nothing; a changed judge, weights file, setting or case misses and is judged again.

A judge that has no `identity` method is never cached: nobody can say what its scores depend on. A cached
judge promises that its scores for one output depend only on that output, its case and its identity; the
artifacts it adds of its own (controls) are kept per case.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from grounding.types import KINDS, Artifact, Case, Score

JUDGED_AT_ONCE = 64  # outputs given to a judge at once (whole cases): progress shows between them

if TYPE_CHECKING:
    from grounding.judges._registry import Judge, JudgeContext, Judged


@lru_cache(maxsize=None)
def source_fingerprint(module: str) -> str:
    """A hash of every Python file of the top-level package that holds `module`: an edited judge is another
    judge, also between releases that kept its version string."""
    return package_fingerprint(module.split(".")[0])


def package_fingerprint(package: str) -> str:
    """A hash of every Python file of `package` (its own folder: grounding.shapes_world lives outside
    grounding's in a checkout)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return "unknown"
    root = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
    files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(root.parent)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def package_version(distribution: str) -> str:
    """An installed distribution's version, for judge identities ("absent" when it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "absent"


def judge_identity(judge: Judge, context: JudgeContext) -> str | None:
    """What a judge's scores depend on besides the output and its case, as one hash; None when the judge does
    not say (it is judged every time)."""
    identity = getattr(judge, "identity", None)
    if identity is None:
        return None
    judge_class = type(judge)
    payload = {"name": judge.name, "version": judge.version,
               "class": f"{judge_class.__module__}.{judge_class.__qualname__}",
               "source": source_fingerprint(judge_class.__module__), "own": identity(context)}
    return _hash(payload)


def output_key(identity: str, artifact: Artifact, case: Case) -> str:
    return _hash({"judge": identity, "output": artifact.sha256, "seed": artifact.seed, "case": _case(case)})


def extras_key(identity: str, case: Case) -> str:
    return _hash({"judge": identity, "extras of case": _case(case)})


def judged_with_cache(judge: Judge, artifacts: Sequence[Artifact], cases: Mapping[str, Case],
                      context: JudgeContext, progress: Callable[[int, int], None] | None = None
                      ) -> tuple[Judged, int]:
    """The judge's (artifact, scores) pairs for these outputs and the cases' extras, and how many outputs were
    read from the cache. Only the outputs the cache lacks are given to the judge, a few whole cases at a time;
    `progress(done, total)` after each (a judge with no identity gets every output at once)."""
    identity = judge_identity(judge, context)
    if identity is None:
        judged = list(judge.judge(artifacts, cases, context))
        if progress:
            progress(len(artifacts), len(artifacts))
        return judged, 0
    store = context.store
    keys = [output_key(identity, a, cases[a.case_id]) for a in artifacts]
    used = list(dict.fromkeys(a.case_id for a in artifacts))
    extra_keys = {case_id: extras_key(identity, cases[case_id]) for case_id in used}
    stored = store.cached_scores([*keys, *extra_keys.values()])
    scores = {key: _scores(stored.get(key)) for key in keys}
    extras = {case_id: _extras(store, stored.get(key)) for case_id, key in extra_keys.items()}
    missing = [a for a, key in zip(artifacts, keys) if scores[key] is None]
    if missing or any(e is None for e in extras.values()):
        # a case whose extras were lost is judged again whole, though every output of it was kept
        asked = [a for a, key in zip(artifacts, keys) if scores[key] is None or extras[a.case_id] is None]
        fresh, done = [], 0
        for part in by_cases(asked):
            fresh += judge.judge(part, {a.case_id: cases[a.case_id] for a in part}, context)
            done += len(part)
            if progress:
                progress(done, len(asked))
        given = {id(a) for a in asked}
        own = {id(a): list(s) for a, s in fresh if id(a) in given}
        added: dict[str, list] = {}
        for artifact, artifact_scores in fresh:
            if id(artifact) not in given:
                added.setdefault(artifact.case_id, []).append((artifact, list(artifact_scores)))
        # a case's extras are renewed when its outputs were judged again or the judge returned some for it;
        # the other cases keep theirs
        asked_cases = {a.case_id for a in asked}
        renewed = {c: added.get(c, []) for c in used if c in asked_cases or c in added}
        judged_now = {key: own.get(id(a), []) for a, key in zip(artifacts, keys) if id(a) in given}
        store.remember_scores({**{key: [_score_data(s) for s in value] for key, value in judged_now.items()},
                               **{extra_keys[c]: [_extra_data(a, s) for a, s in pairs]
                                  for c, pairs in renewed.items()}})
        scores |= judged_now
        extras = {c: renewed[c] if c in renewed else (extras[c] or []) for c in used}
    judged: Judged = [(a, scores[key]) for a, key in zip(artifacts, keys)]
    judged += [pair for case_id in used for pair in extras[case_id]]
    return judged, len(artifacts) - len(missing)


def by_cases(artifacts: Sequence[Artifact], size: int | None = None) -> list[list[Artifact]]:
    """The artifacts in parts of whole cases, about `size` outputs each (a case with more is a part alone): a
    judge's extras (controls) are per case, and progress shows between parts."""
    grouped: dict[str, list[Artifact]] = {}
    for artifact in artifacts:
        grouped.setdefault(artifact.case_id, []).append(artifact)
    parts: list[list[Artifact]] = [[]]
    for outputs in grouped.values():
        if parts[-1] and len(parts[-1]) + len(outputs) > (size or JUDGED_AT_ONCE):
            parts.append([])
        parts[-1] += outputs
    return [part for part in parts if part]


def _scores(data: Any) -> list[Score] | None:
    """Scores as the cache holds them; None when absent or not readable as scores (then judged again)."""
    if not isinstance(data, list):
        return None
    try:
        return [_score(item) for item in data]
    except (KeyError, TypeError, ValueError):
        return None


def _extras(store, data: Any) -> list | None:
    """A case's extra artifacts and their scores as the cache holds them; None when absent, unreadable or an
    artifact is gone from the store."""
    if not isinstance(data, list):
        return None
    out = []
    try:
        for item in data:
            path = store.verified_artifact(item["artifact"], item["sha256"])
            scores = _scores(item["scores"])
            if path is None or scores is None:
                return None
            out.append((Artifact(str(item["case_id"]), int(item["seed"]), path, item["sha256"], True), scores))
    except (KeyError, TypeError, ValueError):
        return None
    return out


def _extra_data(artifact: Artifact, scores: Sequence[Score]) -> dict:
    from grounding.results.store import artifact_ref

    return {"case_id": artifact.case_id, "seed": artifact.seed, "artifact": artifact_ref(artifact.path),
            "sha256": artifact.sha256, "scores": [_score_data(s) for s in scores]}


def _score_data(score: Score) -> dict:
    return {**asdict(score), "metadata": json.loads(json.dumps(dict(score.metadata), default=str))}


def _score(data: Mapping[str, Any]) -> Score:
    passed, metadata = data["passed"], data["metadata"]
    if not isinstance(passed, (bool, type(None))) or not isinstance(metadata, dict):
        raise TypeError("not a stored score")
    kind = data.get("kind", "output")
    if kind not in KINDS:
        raise TypeError("not a stored score")
    return Score(str(data["judge"]), str(data["metric"]), float(data["value"]), passed, str(data["explanation"]),
                 metadata, kind)


def _case(case: Case) -> dict:
    from grounding.results.store import case_data

    return {"id": case.id, "modality": case.modality, **case_data(case)}


def _hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
