"""The `svg` adapter: a causal language model (any transformers checkpoint) writes SVG, resvg renders it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .svg import render_png


def prompt_text(instruction: str) -> str:
    """How the bundled SVG model was trained to be asked (train.py writes the same)."""
    return f"Draw {instruction} as SVG.\n"


@dataclass
class SvgDrawing:
    """Loaded once per run; `generate` returns one PNG per prompt, sampled with that prompt's own seed."""

    model: Any
    tokenizer: Any
    device: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    modality: str = "svg"
    kind: str = "image"  # grounding's image judges (CLIP, the shapes oracle) read these artifacts
    suffix: str = ".png"

    @classmethod
    def load(cls, path: Path, *, device: str | None = None, allow_pickle: bool = False, max_new_tokens: int = 120,
             temperature: float = 0.8, size: int = 32) -> "SvgDrawing":
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from grounding.errors import GroundingUsageError

        transformers.utils.logging.disable_progress_bar()
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True,
                                                         use_safetensors=not allow_pickle).to(device).eval()
        except (OSError, ValueError) as err:
            raise GroundingUsageError(
                f"--model {path}: transformers could not load this SVG model ({str(err).splitlines()[0]}). Pass a "
                f"folder that `save_pretrained` wrote for a causal LM and its tokenizer.") from None
        settings = {"max_new_tokens": max_new_tokens, "temperature": temperature, "size": size}
        return cls(model, tokenizer, device, settings)

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[bytes]:
        return [render_png(text, self.settings["size"]) for text in self.write(prompts, seeds)]

    def write(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        """The model's SVG text per prompt. One prompt at a time, each under its own seed in a forked RNG, so an
        answer depends on its prompt and seed only (grounding caches outputs on that promise)."""
        import torch

        answers = []
        for prompt, seed in zip(prompts, seeds):
            encoded = self.tokenizer(prompt_text(prompt), return_tensors="pt",
                                     add_special_tokens=False).to(self.device)
            sampled = self.settings["temperature"] > 0
            sampling = {"temperature": self.settings["temperature"], "top_k": 0} if sampled else {}
            with torch.random.fork_rng(devices=[self.device] if self.device.startswith("cuda") else []), \
                    torch.no_grad():
                torch.manual_seed(int(seed))
                made = self.model.generate(**encoded, max_new_tokens=self.settings["max_new_tokens"],
                                           do_sample=sampled, **sampling, pad_token_id=self.tokenizer.pad_token_id,
                                           eos_token_id=self.tokenizer.eos_token_id)
            answers.append(self.tokenizer.decode(made[0, encoded["input_ids"].shape[1]:], skip_special_tokens=True))
        return answers
