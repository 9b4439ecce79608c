"""Find what a --model path holds, refuse unsafe or broken weights, and hash the weights' content.

No torch here: this runs when pytest starts, before any model is loaded.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from grounding.errors import GroundingUsageError, shown
from grounding.inputs._paths import user_path

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def bundled(folder: str, checkout: str) -> Path:
    """Data the package ships: `grounding/<folder>` of an installed wheel (importlib.resources), else the
    checkout's `<checkout>` folder (an editable install keeps the project's own layout)."""
    from importlib import resources

    installed = Path(str(resources.files("grounding") / folder))
    return installed if installed.is_dir() else Path(__file__).resolve().parents[2] / checkout


BUNDLED = bundled("checkpoints", "fixtures/checkpoints")


WORLDS = ("shapes",)  # synthetic worlds with an oracle that reads their outputs exactly


@dataclass(frozen=True)
class Checkpoint:
    """One model folder, the modality it serves and, for a model of a synthetic world, that world (its oracle
    judges the outputs; nothing else is judged by an oracle that cannot read photos)."""

    modality: str
    path: Path
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    world: str | None = None


def _read_manifest(path: Path) -> dict:
    try:
        return tomllib.loads((path / "grounding.toml").read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise GroundingUsageError(
            f"--model {path}: grounding.toml is not valid TOML ({err}). Fix the file, or remove it to let the "
            f"folder's model_index.json or config.json decide the modality."
        ) from None


def _modalities(path: Path, manifest: dict) -> dict[str, dict]:
    """The [modalities.NAME] tables of a grounding.toml, each value checked to be a plain finite setting."""
    def fail(problem: str) -> GroundingUsageError:
        return GroundingUsageError(
            f"--model {path}: grounding.toml {problem}. It holds one [modalities.NAME] table per modality, with a "
            f"string `path` to the weights' folder and generation settings as strings, numbers or booleans; see "
            f"fixtures/checkpoints/grounding.toml.")

    unknown = [k for k in manifest if k not in ("modalities", "world")]
    if unknown:
        raise fail(f"has unknown top-level key(s) {', '.join(map(repr, unknown))}")
    if manifest.get("world", WORLDS[0]) not in WORLDS:
        raise fail(f"`world` = {manifest['world']!r} names no world this version has an oracle for (it knows "
                   f"{', '.join(map(repr, WORLDS))}); leave `world` out for a model of real images")
    tables = manifest.get("modalities", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise fail("`modalities` must hold tables ([modalities.text-to-image], ...)")
    for name, table in tables.items():
        if not isinstance(table.get("path", "."), str) or "\0" in table.get("path", "."):
            raise fail(f"[modalities.{shown(name)}] `path` must be a string")
        for key, value in table.items():
            if not isinstance(value, (str, int, float, bool)) or (isinstance(value, float)
                                                                  and not math.isfinite(value)):
                raise fail(f"[modalities.{shown(name)}] `{shown(key)}` = {value!r}: a setting must be a string, a "
                           f"finite number or a boolean")
    return tables


def _world_of(folder: Path) -> str | None:
    """The world a model folder's own grounding.toml declares (a copied folder keeps it)."""
    if not (folder / "grounding.toml").is_file():
        return None
    manifest = _read_manifest(folder)
    world = manifest.get("world")
    return world if world in WORLDS else None


def resolve(path: str | Path, *, allow_pickle: bool = False) -> tuple[Checkpoint, ...]:
    """The checkpoints under a --model path, one per modality, each checked for safe, readable weights."""
    path = user_path(path)
    if not path.exists():
        raise GroundingUsageError(
            f"--model {path}: no such file or directory. Pass the folder of a diffusers pipeline (it holds "
            f"model_index.json) or of a transformers causal LM (it holds config.json), or leave --model out to "
            f"run the bundled reference checkpoints."
        )
    if not path.is_dir():
        raise GroundingUsageError(
            f"--model {path}: this is a file, not a checkpoint folder. Pass the folder that holds the weights "
            f"and model_index.json (diffusers) or config.json (transformers), not a single weights file."
        )
    manifest = _read_manifest(path) if (path / "grounding.toml").is_file() else {}
    tables = _modalities(path, manifest)
    if tables:
        found = tuple(Checkpoint(name, folder, {k: v for k, v in table.items() if k != "path"},
                                 manifest.get("world") or _world_of(folder))
                      for name, table in tables.items() for folder in [(path / table.get("path", ".")).resolve()])
    else:  # a model folder, perhaps with a grounding.toml that only names its world
        from grounding.adapters._protocol import recognising

        found = tuple(Checkpoint(m, path, world=manifest.get("world")) for m in recognising(path))
    if not found:
        raise GroundingUsageError(
            f"--model {path}: this folder is not a checkpoint: it has no model_index.json (a diffusers "
            f"pipeline), no config.json (a transformers causal LM) and no grounding.toml naming sub-folders. "
            f"Point --model at the folder that `save_pretrained` wrote."
        )
    from grounding.adapters._protocol import check_folder

    for checkpoint in found:
        check_weights(checkpoint.path, allow_pickle=allow_pickle)
        check_links(checkpoint.path)
        check_folder(checkpoint.modality, checkpoint.path)
    return found


def files_in(path: Path) -> list[Path]:
    """Every file under `path`, through symbolic links to folders too (a checkpoint may link a component, and
    Path.rglob before Python 3.13 does not follow such links), in a stable order."""
    return sorted(Path(root) / name for root, _, names in os.walk(path, followlinks=True) for name in names
                  if (Path(root) / name).is_file())


def weight_files(path: Path) -> list[Path]:
    return [p for p in files_in(path) if p.suffix in (".safetensors",) + PICKLE_SUFFIXES]


def check_weights(path: Path, *, allow_pickle: bool = False) -> None:
    """Refuse pickle weights (they can run code on load) unless allowed, and corrupt safetensors files."""
    if not path.is_dir():
        raise GroundingUsageError(f"--model: checkpoint folder {path} (named in grounding.toml) does not exist. "
                                  f"Fix the `path` of that modality in grounding.toml.")
    files = weight_files(path)
    pickles = [p for p in files if p.suffix in PICKLE_SUFFIXES and not p.with_suffix(".safetensors").exists()]
    if pickles and not allow_pickle:
        raise GroundingUsageError(
            f"--model {path}: {pickles[0].relative_to(path)} is a pickle checkpoint, and loading a pickle can run "
            f"arbitrary code. Convert it to safetensors (e.g. `save_pretrained(..., safe_serialization=True)`), "
            f"or pass --allow-pickle if you trust where it came from."
        )
    for file in files:
        if file.suffix == ".safetensors":
            _check_safetensors_header(file)


def check_links(path: Path) -> None:
    """Refuse a symbolic link whose target is gone: the files behind it would be skipped by every check and
    hash, and the loader would find the part missing (a linked component stays a link when its folder is
    copied, and then points nowhere)."""
    for root, folders, files in os.walk(path, followlinks=True):
        for name in folders + files:
            link = Path(root) / name
            if link.is_symlink() and not link.exists():
                raise GroundingUsageError(
                    f"--model {path}: {link.relative_to(path)} is a symbolic link to {os.readlink(link)}, which does "
                    f"not exist (a link copied away from what it points at). Put the linked files themselves in "
                    f"its place, or copy the checkpoint again from its source with `cp -rL`, which replaces each "
                    f"link by what it points at.")


Needs = tuple[tuple[str, tuple[str, ...]], ...]  # (what a file is, the names any one of which will do)
WEIGHTS = ("weights file (*.safetensors)", ("*.safetensors",) + tuple("*" + s for s in PICKLE_SUFFIXES))
VOCABULARY = ("vocabulary (tokenizer.json, vocab.json, vocab.txt or a *.model file)",
              ("tokenizer.json", "vocab.json", "vocab.txt", "*.model", "*.tiktoken"))


def _one(name: str) -> tuple[str, tuple[str, ...]]:
    return name, (name,)


def _needs(class_name: str) -> Needs:
    """The files a component of this class loads from (diffusers and transformers name their classes by kind)."""
    if "Tokenizer" in class_name:
        return _one("tokenizer_config.json"), VOCABULARY
    if class_name.endswith("Scheduler"):
        return _one("scheduler_config.json"),
    if class_name.endswith(("Processor", "FeatureExtractor")):
        return _one("preprocessor_config.json"),
    return _one("config.json"), WEIGHTS


def _json_object(file: Path, path: Path) -> dict:
    if not file.is_file():
        raise GroundingUsageError(
            f"--model {path}: {file.name} is missing ({file} is not a file), though the folder is declared as the "
            f"model that file describes. Point --model (or the modality's `path` in grounding.toml) at the folder "
            f"`save_pretrained` wrote, which holds it.")
    try:
        value = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        value = err
    if not isinstance(value, dict):
        raise GroundingUsageError(
            f"--model {path}: {file.name} is not a JSON object ({shown(str(value))}). It is damaged or not the "
            f"file `save_pretrained` writes; copy or export the checkpoint again.")
    return value


def check_parts(path: Path, part: str, class_name: str, needs: Needs) -> None:
    """Refuse a model folder (or one component of it) that lacks a file its class loads from, naming the part
    and the file, before anything loads: a loader given a part with files missing may fail once per test, or
    quietly build something else (a tokenizer without its settings)."""
    folder = path / part
    where = f"--model {path}: the {part} ({class_name})" if part != "." else f"--model {path}: this {class_name}"
    fix = ("Copy the missing files again from where the checkpoint came from (`save_pretrained` writes them "
           "all), or point --model at a complete folder.")
    if folder.is_symlink() and not folder.exists():
        check_links(path)
    if not folder.exists():
        raise GroundingUsageError(f"{where} is missing: model_index.json names it, but {folder} does not exist. "
                                  f"{fix} A pipeline that runs without it has [null, null] for it in "
                                  f"model_index.json.")
    if not folder.is_dir():
        raise GroundingUsageError(f"{where} is a file, {folder}, where a folder of its files belongs. {fix}")
    missing = [what for what, patterns in needs
               if not any(f.is_file() for pattern in patterns for f in folder.glob(pattern))]
    if missing:
        state = "is an empty folder" if not any(folder.iterdir()) else "is incomplete"
        raise GroundingUsageError(f"{where} {state}: {folder} has no {'; no '.join(missing)}. {fix}")
    for index in folder.glob("*.safetensors.index.json"):
        shards = sorted(set(_json_object(index, path).get("weight_map", {}).values()))
        absent = [shard for shard in shards if not (folder / str(shard)).is_file()]
        if absent:
            raise GroundingUsageError(f"{where} is incomplete: {index.name} lists the weights file {absent[0]}, "
                                      f"which {folder} does not hold. {fix}")


def check_pipeline(path: Path) -> None:
    """Every component a diffusers pipeline's model_index.json names is there with the files its class needs
    ([null, null] marks a component the pipeline runs without)."""
    index = _json_object(path / "model_index.json", path)
    for name, spec in index.items():
        if (not name.startswith("_") and isinstance(spec, list) and len(spec) == 2
                and all(isinstance(s, str) for s in spec)):
            check_parts(path, name, spec[1], _needs(spec[1]))


def check_language_model(path: Path) -> None:
    """A transformers causal LM folder holds its weights and the tokenizer files AutoTokenizer reads (without
    tokenizer_config.json it silently builds a tokenizer with none of the model's special tokens)."""
    class_name = " or ".join(_json_object(path / "config.json", path).get("architectures") or ["model"])
    check_parts(path, ".", class_name, (_one("config.json"), WEIGHTS, _one("tokenizer_config.json"), VOCABULARY))


def _check_safetensors_header(file: Path) -> None:
    """A safetensors file starts with an 8-byte little-endian header length and a JSON header."""
    problem = None
    with file.open("rb") as handle:
        head = handle.read(8)
        size = file.stat().st_size
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if size == 0:
            problem = "it is empty (0 bytes)"
        elif length <= 0 or length > size - 8:
            problem = "its header length is out of range"
        else:
            try:
                header = json.loads(handle.read(length))
                end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
                if 8 + length + end > size:
                    problem = "it is shorter than its header says (truncated?)"
            except (ValueError, KeyError, TypeError):
                problem = "its header is not valid JSON"
    if problem:
        raise GroundingUsageError(
            f"--model: {file} is not a readable safetensors file: {problem}. The file is corrupt or was cut off "
            f"while copying; copy or export the checkpoint again."
        )


def content_hash(path: Path) -> str:
    """SHA-256 over every file's relative name and bytes: the model's identity, independent of its location."""
    digest = hashlib.sha256()
    for file in files_in(path):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
