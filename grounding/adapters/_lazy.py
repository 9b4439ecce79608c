"""A checkpoint's adapter, loaded the first time something must be generated.

Generation keys need the adapter's settings (steps, dtype, scheduler, sampling), which only a loaded adapter
knows. The store remembers them by what the load depends on (weights hash, grounding.toml settings, device,
the adapter's source), so an unchanged rerun computes every key, finds every output and score in the store,
and never loads the weights.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Sequence

from grounding.adapters._protocol import Adapter, adapter_class, adapter_kind, load_adapter
from grounding.inputs._checkpoint import Checkpoint
from grounding.results.store import Store
from grounding.running._score_cache import source_fingerprint
from grounding.settings import Settings


def resolved_device(device: str | None) -> str:
    """The torch device a run uses, for cache keys: the one asked for, else cuda where a CUDA build of torch
    meets an NVIDIA device node, else cpu. Read without importing torch (seconds), so that an unchanged rerun
    stays as quick as collecting the tests."""
    if device:
        return device
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return "cpu"
    try:
        built = (Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text()
    except OSError:
        return "cpu"
    cuda_build = re.search(r"^cuda\b.*=\s*['\"]", built, flags=re.MULTILINE) is not None
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1")
    return "cuda" if cuda_build and not hidden and Path("/dev/nvidiactl").exists() else "cpu"


@dataclass(frozen=True)
class LazyAdapter:
    """Stands for the loaded adapter: its modality, kind, suffix and settings without loading it; `generate`,
    `describe` and anything else load it once."""

    checkpoint: Checkpoint
    run_settings: Settings
    store: Store
    model_hash: str

    @property
    def modality(self) -> str:
        return self.checkpoint.modality

    @property
    def kind(self) -> str:
        return adapter_kind(self.modality)

    @property
    def suffix(self) -> str:
        suffix = getattr(adapter_class(self.modality), "suffix", None)
        return suffix if isinstance(suffix, str) else self.loaded.suffix

    @property
    def is_loaded(self) -> bool:
        return "loaded" in self.__dict__

    @cached_property
    def load_key(self) -> str:
        registered = adapter_class(self.modality)
        payload = {"model": self.model_hash, "modality": self.modality, "settings": dict(self.checkpoint.settings),
                   "device": resolved_device(self.run_settings.device).split(":")[0],
                   "allow_pickle": self.run_settings.allow_pickle,
                   "adapter": f"{registered.__module__}.{registered.__qualname__}",
                   "source": source_fingerprint(registered.__module__)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    @cached_property
    def settings(self) -> dict[str, Any]:
        remembered = self.store.adapter_settings(self.load_key)
        return remembered if remembered is not None else dict(self.loaded.settings)

    @cached_property
    def loaded(self) -> Adapter:
        adapter = load_adapter(self.modality, self.checkpoint.path, device=self.run_settings.device,
                               allow_pickle=self.run_settings.allow_pickle, settings=self.checkpoint.settings)
        self.store.remember_adapter_settings(self.load_key, adapter.settings)
        return adapter

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[bytes]:
        return self.loaded.generate(prompts, seeds)

    def describe(self, outputs: Sequence[bytes], instructions: Sequence[str | None], seeds: Sequence[int]) -> list[str]:
        return self.loaded.describe(outputs, instructions, seeds)

    @property
    def choose(self) -> Callable[..., list[str]] | None:
        """The loaded adapter's optional `choose`, or None where its class has none: known from the registered
        class, so asking does not load the model (and `--forced-choice` is refused by name, not by traceback)."""
        if not callable(getattr(adapter_class(self.modality), "choose", None)):
            return None
        return lambda outputs, instructions, seeds, options: self.loaded.choose(outputs, instructions, seeds, options)

    def __getattr__(self, name: str) -> Any:  # whatever else a plugin's judge asks of its own adapter
        if name.startswith("_") or name in ("loaded", "settings", "load_key"):
            raise AttributeError(name)
        return getattr(self.loaded, name)
