"""A transformers causal language model behind the ASCII-art and code adapters.

Loads any `AutoModelForCausalLM` + `AutoTokenizer` directory, applies the tokenizer's chat template when it
has one, and generates in batches with a new-token and a time limit. Sampling draws each row's tokens from
its own seeded generator, so an output depends on its prompt and seed only, never on the batch it ran in;
temperature 0 is greedy decoding.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from grounding.errors import GroundingUsageError


class SeededSampler:
    """A logits processor that samples one token per row from that row's own generator; generation then
    runs greedily over its one-hot output, so HF's decoding loop, caches and stopping criteria stay in use."""

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float, device: str):
        import torch

        self.generators = [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]
        self.temperature, self.top_p, self.device = temperature, top_p, device

    def __call__(self, input_ids, scores):
        import torch

        probs = torch.softmax(scores.float().cpu() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            ordered, order = probs.sort(dim=-1, descending=True)
            drop = ordered.cumsum(-1) - ordered > self.top_p
            probs = probs.scatter(-1, order, ordered.masked_fill(drop, 0.0))
        chosen = torch.stack([torch.multinomial(p, 1, generator=g)[0] for p, g in zip(probs, self.generators)])
        out = torch.full_like(scores, float("-inf"))
        out[torch.arange(len(chosen)), chosen.to(scores.device)] = 0.0
        return out


@dataclass
class LanguageModel:
    model: Any
    tokenizer: Any
    device: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, *, device: str | None = None, allow_pickle: bool = False, max_new_tokens: int = 400,
             temperature: float = 0.0, top_p: float = 1.0, batch_size: int = 16,
             time_limit: float = 600.0) -> "LanguageModel":
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        try:
            # bandit B615: a local folder (local_files_only): nothing is downloaded, so there is no revision to pin
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)  # nosec B615
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, use_safetensors=not allow_pickle,  # nosec B615
                                                         local_files_only=True)
        except (OSError, ValueError, EnvironmentError) as err:
            raise GroundingUsageError(
                f"--model {path}: transformers could not load this causal language model "
                f"({str(err).splitlines()[0]}). Check that the folder is a complete `save_pretrained` output "
                f"(config.json, tokenizer files, safetensors weights), or pass --allow-pickle for trusted .bin "
                f"weights.") from None
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = model.to(device).eval()
        settings = {"max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p,
                    "time_limit": time_limit, "dtype": str(dtype), "chat_template": bool(tokenizer.chat_template)}
        return cls(model, tokenizer, device, settings | {"batch_size": batch_size})

    def _frame(self, message: str) -> str:
        if self.tokenizer.chat_template:
            return self.tokenizer.apply_chat_template([{"role": "user", "content": message}], tokenize=False,
                                                      add_generation_prompt=True)
        return message

    def complete(self, messages: Sequence[str], seeds: Sequence[int]) -> list[str]:
        """One answer per (message, seed), in batches. Greedy decoding ignores the seed, so each distinct
        message is then answered once and its answer repeated for every seed."""
        if self.settings["temperature"] <= 0:
            distinct = list(dict.fromkeys(messages))
            answers = dict(zip(distinct, self._in_batches(distinct, [0] * len(distinct))))
            return [answers[m] for m in messages]
        return self._in_batches(messages, seeds)

    def _in_batches(self, messages: Sequence[str], seeds: Sequence[int]) -> list[str]:
        out: list[str] = []
        size = self.settings["batch_size"]
        for start in range(0, len(messages), size):
            out += self._batch(messages[start:start + size], seeds[start:start + size])
        return out

    def _batch(self, messages: Sequence[str], seeds: Sequence[int]) -> list[str]:
        import torch
        from transformers import LogitsProcessorList

        encoded = self.tokenizer([self._frame(m) for m in messages], return_tensors="pt", padding=True,
                                 add_special_tokens=not self.tokenizer.chat_template).to(self.device)
        context = getattr(self.model.config, "max_position_embeddings", None) or getattr(self.model.config,
                                                                                        "n_positions", None)
        room = self.settings["max_new_tokens"]
        if context:  # never run past the model's positions: a long prompt leaves less room to answer
            room = min(room, context - encoded["input_ids"].shape[1])
            if room <= 0:
                return [""] * len(messages)
        greedy = self.settings["temperature"] <= 0
        processors = LogitsProcessorList([] if greedy else [SeededSampler(seeds, self.settings["temperature"],
                                                                          self.settings["top_p"], self.device)])
        limit = self.settings["time_limit"]
        started = time.monotonic()
        with torch.no_grad():
            generated = self.model.generate(**encoded, do_sample=False, max_new_tokens=room, max_time=limit,
                                            logits_processor=processors, pad_token_id=self.tokenizer.pad_token_id,
                                            eos_token_id=self.tokenizer.eos_token_id)
        answers = generated[:, encoded["input_ids"].shape[1]:]
        cut = answers.shape[1] < room and not bool((answers == self.tokenizer.eos_token_id).any(dim=1).all())
        if cut and time.monotonic() - started >= limit:
            raise GroundingUsageError(
                f"Generation of a batch of {len(messages)} stopped at time_limit ({limit:g} s) before every answer "
                f"was finished. An answer cut by the clock depends on the machine's load, and would be judged and "
                f"cached as if it were the model's. Raise time_limit, or lower batch_size or max_new_tokens, in "
                f"the modality's table of grounding.toml.")
        return [self.tokenizer.decode(row, skip_special_tokens=True) for row in answers]


@dataclass
class TextAdapter:
    """What the ASCII-art and code adapters share: a language model that writes an output and then
    describes it, blind and primed. Subclasses name their modality and suffix and may clean outputs."""

    lm: LanguageModel
    modality: str = ""
    suffix: str = ".txt"
    settings_from = LanguageModel  # `load` passes its settings on to LanguageModel.load

    @classmethod
    def recognises(cls, path: Path) -> bool:
        """A transformers model folder (save_pretrained wrote config.json) that is not a diffusers pipeline."""
        return (path / "config.json").is_file() and not (path / "model_index.json").is_file()

    @classmethod
    def check_folder(cls, path: Path) -> None:
        """The weights and tokenizer files are there (checked before any test runs)."""
        from grounding.inputs import check_language_model

        check_language_model(path)

    @classmethod
    def load(cls, path: Path, **options: Any) -> "TextAdapter":
        return cls(LanguageModel.load(path, **options))

    @property
    def settings(self) -> Mapping[str, Any]:
        return self.lm.settings

    def clean(self, answer: str) -> str:
        return answer

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[bytes]:
        return [self.clean(answer).encode() for answer in self.lm.complete(prompts, seeds)]

    def describe(self, outputs: Sequence[bytes], instructions: Sequence[str | None], seeds: Sequence[int]) -> list[str]:
        """The model's account of each output; primed with its instruction where one is given."""
        from .prompts import describe_prompt

        return self.lm.complete([describe_prompt(self.modality, o.decode(errors="replace"), i)
                                 for o, i in zip(outputs, instructions)], seeds)

    def choose(self, outputs: Sequence[bytes], instructions: Sequence[str | None], seeds: Sequence[int],
               options: Sequence[str]) -> list[str]:
        """The model's forced choice about each output: one of `options` first (code: yes or no first)."""
        from .prompts import choose_prompt

        return self.lm.complete([choose_prompt(self.modality, o.decode(errors="replace"), options, i)
                                 for o, i in zip(outputs, instructions)], seeds)
