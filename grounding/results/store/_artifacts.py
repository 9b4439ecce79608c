"""Artifacts: files under artifacts/ named by the SHA-256 of their content.

A record keeps an artifact's reference (artifacts/ab/<sha256><suffix>). Where the file lies is built from the
name alone, so a record can never point outside its store, and what is read is checked against the name. Every
read goes through `read_inside`, which follows no symbolic link below the store's folder and reads regular files
only: a link planted in a store (a downloaded baseline) cannot make a report show a file from elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

NAME = re.compile(r"[0-9a-f]{64}(\.[A-Za-z0-9]{1,10})?")
MAX_ARTIFACT_BYTES = 64 * 2**20  # larger files are not outputs this suite wrote
FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
NO_LINK = getattr(os, "O_NOFOLLOW", 0)
KINDS = {stat.S_IFLNK: "a symbolic link", stat.S_IFDIR: "a folder", stat.S_IFIFO: "a named pipe",
         stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


class ArtifactProblem(Exception):
    """An artifact that cannot be used; `kind` is "missing", "damaged" (too large, not matching its hash, not a
    store name) or "unsafe" (a symbolic link or not a regular file, at the file or a folder above it)."""

    def __init__(self, message: str, kind: str = "damaged"):
        super().__init__(message)
        self.kind = kind


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
    data = read_inside(root, path.relative_to(root).parts)
    if hashlib.sha256(data).hexdigest() != artifact_sha(ref):
        raise ArtifactProblem(f"{path.name} is damaged: its content does not match its name")
    return data


def read_inside(root: Path, parts: tuple[str, ...]) -> bytes:
    """The bytes of the regular file root/parts..., opened without following a symbolic link at any of `parts`
    (the store's own path may run through links: the user named it)."""
    missing = ArtifactProblem(f"{parts[-1]} is missing from the store", "missing")
    try:
        folder = open_folders(root, parts[:-1])
    except ArtifactProblem as problem:
        raise missing if problem.kind == "missing" else problem from None
    try:
        fd = os.open(parts[-1], os.O_RDONLY | NO_LINK | os.O_NONBLOCK, dir_fd=folder)  # a pipe must not block
    except FileNotFoundError:
        raise missing from None
    except OSError as err:
        raise _refused(folder, parts, err) from None
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _unsafe(parts, info.st_mode)
        data = handle.read(MAX_ARTIFACT_BYTES + 1)
    if len(data) > MAX_ARTIFACT_BYTES:
        raise ArtifactProblem(f"{parts[-1]} is larger than {MAX_ARTIFACT_BYTES // 2**20} MiB; refused")
    return data


def open_folders(root: Path, parts: tuple[str, ...]) -> int:
    """A descriptor of the folder root/parts..., each part opened without following a symbolic link."""
    try:
        fd = os.open(root, FOLDER)
    except OSError as err:
        raise ArtifactProblem(f"the store {root} cannot be read ({err.strerror})", "missing") from None
    for depth, part in enumerate(parts):
        try:
            inner = os.open(part, FOLDER | NO_LINK, dir_fd=fd)
        except FileNotFoundError:
            raise ArtifactProblem(f"{'/'.join(parts[:depth + 1])} is missing from the store", "missing") from None
        except OSError as err:
            raise _refused(fd, parts[:depth + 1], err) from None
        finally:
            os.close(fd)
        fd = inner
    return fd


def artifact_entries(root: Path) -> tuple[list[str], list[str]]:
    """The regular files under root/artifacts (relative to root), and every entry there that is a symbolic link
    or not a regular file, each named with what it is; no link is followed."""
    files, unsafe = [], []
    top = root / "artifacts"
    try:
        mode = top.lstat().st_mode
    except OSError:
        return files, unsafe
    if not stat.S_ISDIR(mode):
        return files, [f"artifacts ({KINDS.get(stat.S_IFMT(mode), 'not a folder')})"]
    for folder, folders, names in os.walk(top):
        for name in folders + names:
            path = Path(folder) / name
            mode = path.lstat().st_mode
            where = str(path.relative_to(root))
            if stat.S_ISREG(mode):
                files.append(where)
            elif not stat.S_ISDIR(mode):
                unsafe.append(f"{where} ({KINDS.get(stat.S_IFMT(mode), 'not a regular file')})")
    return sorted(files), sorted(unsafe)


def _refused(folder: int, parts: tuple[str, ...], err: OSError) -> ArtifactProblem:
    """Why parts[-1], in the open folder, could not be opened: a symbolic link is unsafe, anything else unreadable."""
    try:
        if stat.S_ISLNK(mode := os.stat(parts[-1], dir_fd=folder, follow_symlinks=False).st_mode):
            return _unsafe(parts, mode)
    except OSError:
        pass
    return ArtifactProblem(f"{'/'.join(parts)} cannot be read ({err.strerror}); refused")


def _unsafe(parts: tuple[str, ...], mode: int) -> ArtifactProblem:
    return ArtifactProblem(f"{'/'.join(parts)} is {KINDS.get(stat.S_IFMT(mode), 'not a regular file')}: the store "
                           f"follows no symbolic link and reads regular files only, so it is refused. `grounding store "
                           f"check` names every such entry; delete them (a run writes missing artifacts again)",
                           "unsafe")


def _name(ref: str) -> str:
    return re.split(r"[/\\]", ref)[-1]
