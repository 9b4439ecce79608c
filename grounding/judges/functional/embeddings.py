"""Embeddings of outputs for distribution drift: CLIP image embeddings (the run's CLIP judge keeps those it
scored with) for images, MiniLM sentence embeddings for text. Stored per artifact hash, so a later comparison
reads them from the store."""

from __future__ import annotations

from typing import Sequence

from grounding.types import Artifact

TEXT_EMBEDDER = "minilm"


def embedder_for(kind: str, judge_spec: str | None) -> str:
    """The embedder outputs of an artifact kind are compared with (both runs must use the same one): the run's
    CLIP judge for images, the sentence encoder for everything else."""
    return f"clip:{judge_spec or 'bundled:shapes-clip'}" if kind == "image" else TEXT_EMBEDDER


def text_embeddings(artifacts: Sequence[Artifact]) -> dict[str, list[float]]:
    """Empty when the sentence encoder is not installed: distribution drift is then not measured for text."""
    from grounding.judges.functional.descriptions import sentence_model

    model = sentence_model()
    if model is None or not artifacts:
        return {}
    texts = [a.path.read_text(errors="replace") for a in artifacts]
    return {a.sha256: v for a, v in zip(artifacts, model.encode(texts, normalize_embeddings=True).tolist())}
