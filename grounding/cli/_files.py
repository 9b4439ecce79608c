"""Where the command writes: folders made and checked before work starts, files written whole or appended to."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from grounding.errors import GroundingUsageError


def output_folder(path: Path, flag: str) -> None:
    """A folder outputs go into: created when missing; checked before any work starts."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise GroundingUsageError(f"{flag} {path}: cannot create this folder ({err}). Pass a folder this user "
                                  f"can write to.") from None


def output_file(path: Path, flag: str) -> None:
    """A file an output goes to: absent or a regular file, in a folder that exists or can be made."""
    if path.exists() and not path.is_file():
        raise GroundingUsageError(f"{flag} {path}: this is a folder or a device, not a file. Pass the path of a "
                                  f"file to write, e.g. {flag} report.html.")
    output_folder(path.parent, flag)


def write_output(path: Path, data: bytes, flag: str, *, append: bool = False) -> None:
    """Write an output whole (through a temporary file beside it), or append to it; a one-paragraph error."""
    temporary = None
    try:
        if append:
            with path.open("ab") as handle:
                handle.write(data)
        else:
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            umask = os.umask(0o022)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)  # as an ordinary new file would be, not mkstemp's 0600
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
            temporary = None
    except OSError as err:
        raise GroundingUsageError(f"{flag} {path}: could not write it ({err}). Pass a path on a disk with room "
                                  f"that this user can write to.") from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
