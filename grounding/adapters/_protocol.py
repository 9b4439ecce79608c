"""The adapter protocol and its discovery through the `grounding.modalities` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from grounding.errors import GroundingUsageError

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

    # Optional: `recognises(path) -> bool` (a classmethod): this folder is a model the adapter loads as it is.
    # Optional: `check_folder(path) -> None` (a classmethod, without heavy imports): raise GroundingUsageError,
    # naming the part, when the folder lacks a file `load` needs (grounding.inputs.check_pipeline, ...).
    # Optional: `kind: str`, the artifact kind it writes ("image", "ascii-art", "code"; default: its modality's
    # name). Every installed judge that reads that kind judges its outputs (grounding.judges).
    # Optional, for modalities whose model can talk about its outputs (ascii-art, code):
    # def describe(self, outputs: Sequence[bytes], instructions: Sequence[str | None],
    #              seeds: Sequence[int]) -> list[str]: the model's account of each output, primed with the
    #              instruction where one is given.
    # def choose(self, outputs, instructions, seeds, options: Sequence[str]) -> list[str]: with --forced-choice,
    #              the model's pick among `options` for each output, first in its answer (code: yes or no).


def registered() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def adapter_class(modality: str) -> Any:
    """The class registered for a modality, imported but not loaded with weights."""
    eps = registered()
    if modality not in eps:
        raise GroundingUsageError(
            f"Unknown modality {modality!r}: no adapter is registered for it (known: "
            f"{', '.join(sorted(eps)) or 'none'}). "
            f"Register one under the `{GROUP}` entry-point group in your package's pyproject.toml and reinstall it."
        )
    try:
        return eps[modality].load()
    except Exception as error:  # a broken plugin is named, not a traceback from deep inside importlib
        raise GroundingUsageError(
            f"The adapter for {modality!r} registered under `{GROUP}` as {eps[modality].value!r} could not be "
            f"loaded ({type(error).__name__}: {error}). Fix or uninstall the package that registers it.") from error


def recognising(path: Path) -> tuple[str, ...]:
    """The modalities whose adapter takes a model folder as it is (its class's `recognises(path)`: a diffusers
    pipeline's model_index.json, a causal LM's config.json), for a --model folder without a grounding.toml."""
    return tuple(name for name in sorted(registered())
                 if getattr(adapter_class(name), "recognises", lambda _: False)(path))


def check_folder(modality: str, path: Path) -> None:
    """The adapter's own check that a model folder holds every file its `load` needs (its class's optional
    `check_folder(path)`), run when pytest starts, so that a missing part is one usage error, not one error
    per test. A modality no adapter is registered for is left to the error its loading gives."""
    if modality in registered():
        getattr(adapter_class(modality), "check_folder", lambda _: None)(path)


def adapter_kind(modality: str) -> str:
    """The artifact kind a modality's adapter writes: its class's `kind`, else the modality's name."""
    return getattr(adapter_class(modality), "kind", None) or modality


def load_adapter(modality: str, path: Path, *, device: str | None = None, allow_pickle: bool = False,
                 settings: Mapping[str, Any] | None = None) -> Adapter:
    """Import the adapter registered for a modality and load the checkpoint with it."""
    registered_class = adapter_class(modality)
    settings = dict(settings or {})
    accepted = _settings_of(registered_class)
    unknown = sorted(set(settings) - accepted) if accepted is not None else []
    if unknown:
        raise GroundingUsageError(
            f"grounding.toml gives the {modality} adapter setting(s) it does not take: {', '.join(unknown)} "
            f"(it takes: {', '.join(sorted(accepted)) or 'none'}). Fix or remove them in [modalities.{modality}].")
    defaults = _defaults_of(registered_class)
    for key, value in settings.items():
        default = defaults.get(key)
        wanted = (int,) if type(default) is int else (int, float) if type(default) is float else \
            (type(default),) if isinstance(default, (str, bool)) else None
        if wanted and (type(value) not in wanted):
            raise GroundingUsageError(
                f"grounding.toml gives the {modality} adapter's setting `{key}` = {value!r}, of type "
                f"{type(value).__name__}; it takes {wanted[-1].__name__} (default {default!r}). Fix it in "
                f"[modalities.{modality}].")
    return registered_class.load(path, device=device, allow_pickle=allow_pickle, **settings)


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
