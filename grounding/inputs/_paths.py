"""Paths a user types: a leading `~` is the home folder, as in a shell."""

from __future__ import annotations

from pathlib import Path


def user_path(text: str | Path) -> Path:
    """`text` with `~` or `~user` expanded; taken literally where no such home is known (pathlib raises there,
    so a baseline round label such as "~0" would otherwise end in a traceback, not in the check that follows)."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        return Path(text)
