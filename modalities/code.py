"""Python code from a transformers causal language model; the artifact is the code itself."""

from __future__ import annotations

from dataclasses import dataclass

from .language_model import TextAdapter


@dataclass
class Code(TextAdapter):
    modality: str = "code"
    kind: str = "code"  # judged by the judges that read code
    suffix: str = ".py"

    def clean(self, answer: str) -> str:
        from grounding.judges.functional.code import extract_code

        return extract_code(answer)
