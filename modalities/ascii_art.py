"""ASCII art from a transformers causal language model."""

from __future__ import annotations

from dataclasses import dataclass

from .language_model import TextAdapter


@dataclass
class AsciiArt(TextAdapter):
    modality: str = "ascii-art"
    kind: str = "ascii-art"  # judged by the judges that read ascii-art
    suffix: str = ".txt"

    def clean(self, answer: str) -> str:
        return answer.strip("\n")
