"""Artifacts: files under artifacts/ named by the SHA-256 of their content.

A record keeps an artifact's reference (artifacts/ab/<sha256><suffix>). Where the file lies is built from the
name alone, so a record can never point outside its store, and what is read is checked against the name.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

NAME = re.compile(r"[0-9a-f]{64}(\.[A-Za-z0-9]{1,10})?")
MAX_ARTIFACT_BYTES = 64 * 2**20  # larger files are not outputs this suite wrote


class ArtifactProblem(Exception):
    """An artifact that cannot be used: not a store name, missing, too large, or not matching its hash."""


def artifact_ref(path: str | Path) -> str:
    """What a record keeps for an artifact: its path relative to the store, from its file name."""
    name = _name(str(path))
    return f"artifacts/{name[:2]}/{name}" if NAME.fullmatch(name) else str(path)


def artifact_sha(ref: str) -> str:
    return _name(ref).split(".")[0]


def artifact_location(root: Path, ref: str) -> Path:
    """Where a reference's file lies in the store at `root`; ArtifactProblem when it is not a store name."""
    name = _name(ref)
    if not NAME.fullmatch(name):
        raise ArtifactProblem(f"{ref!r} is not the name of a store artifact (sha256 + suffix); refused")
    return root / "artifacts" / name[:2] / name


def read_verified(root: Path, ref: str) -> bytes:
    """An artifact's bytes, after checking that they hash to its name."""
    path = artifact_location(root, ref)
    if not path.is_file():
        raise ArtifactProblem(f"{path.name} is missing from the store")
    if path.stat().st_size > MAX_ARTIFACT_BYTES:
        raise ArtifactProblem(f"{path.name} is larger than {MAX_ARTIFACT_BYTES // 2**20} MiB; refused")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != artifact_sha(ref):
        raise ArtifactProblem(f"{path.name} is damaged: its content does not match its name")
    return data


def _name(ref: str) -> str:
    return re.split(r"[/\\]", ref)[-1]
