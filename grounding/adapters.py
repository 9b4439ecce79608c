"""The adapter protocol and its discovery through the `grounding.modalities` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from .errors import GroundingUsageError

GROUP = "grounding.modalities"


@runtime_checkable
class Adapter(Protocol):
    """A loaded model of one modality. `load` is a classmethod of the registered class:

        Adapter.load(path, *, device=None, allow_pickle=False, **settings) -> Adapter
    """

    modality: str
    suffix: str  # file suffix of the artifacts it writes, e.g. ".png"
    settings: Mapping[str, Any]  # everything besides weights, prompt and seed that changes an output

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[bytes]:
        """One encoded artifact per (prompt, seed) pair, deterministic given the seed."""

    # Optional, for modalities whose model can talk about its outputs (ascii-art, code):
    # def describe(self, outputs: Sequence[bytes], instructions: Sequence[str | None],
    #              seeds: Sequence[int]) -> list[str]: the model's account of each output, primed with the
    #              instruction where one is given.


def registered() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_adapter(modality: str, path: Path, *, device: str | None = None, allow_pickle: bool = False,
                 settings: Mapping[str, Any] | None = None) -> Adapter:
    """Import the adapter registered for a modality and load the checkpoint with it."""
    eps = registered()
    if modality not in eps:
        raise GroundingUsageError(
            f"Unknown modality {modality!r}: no adapter is registered for it (known: {', '.join(sorted(eps)) or 'none'}). "
            f"Register one under the `{GROUP}` entry-point group in your package's pyproject.toml and reinstall it."
        )
    adapter_class = eps[modality].load()
    settings = dict(settings or {})
    accepted = _settings_of(adapter_class)
    unknown = sorted(set(settings) - accepted) if accepted is not None else []
    if unknown:
        raise GroundingUsageError(
            f"grounding.toml gives the {modality} adapter setting(s) it does not take: {', '.join(unknown)} "
            f"(it takes: {', '.join(sorted(accepted)) or 'none'}). Fix or remove them in [modalities.{modality}].")
    defaults = _defaults_of(adapter_class)
    for key, value in settings.items():
        default = defaults.get(key)
        wanted = (int,) if type(default) is int else (int, float) if type(default) is float else \
            (type(default),) if isinstance(default, (str, bool)) else None
        if wanted and (type(value) not in wanted):
            raise GroundingUsageError(
                f"grounding.toml gives the {modality} adapter's setting `{key}` = {value!r}, of type "
                f"{type(value).__name__}; it takes {wanted[-1].__name__} (default {default!r}). Fix it in "
                f"[modalities.{modality}].")
    return adapter_class.load(path, device=device, allow_pickle=allow_pickle, **settings)


def _parameters(adapter_class: Any) -> dict[str, Any] | None:
    """The keyword parameters `load` takes (following `**options` to the language model), None if open-ended."""
    import inspect

    params = inspect.signature(adapter_class.load).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        inner = getattr(adapter_class, "settings_from", None)
        return None if inner is None else _parameters(inner)
    return {n: p for n, p in params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and n not in ("device", "allow_pickle")}


def _settings_of(adapter_class: Any) -> set[str] | None:
    params = _parameters(adapter_class)
    return None if params is None else set(params)


def _defaults_of(adapter_class: Any) -> dict[str, Any]:
    return {name: p.default for name, p in (_parameters(adapter_class) or {}).items()}
