"""The one error type for bad input: a concise message that names the problem and the fix; and the one way text
from a store or a model's output is made safe to print on a terminal."""

import re

# escape sequences whole (CSI; OSC, DCS, SOS, PM and APC strings up to their terminator or the line's end; any
# other ESC sequence), in their 7-bit and 8-bit (C1) forms; then any control character left
SEQUENCE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
                      r"|(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
                      r"|\x1b[ -/]*[0-~]?")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class GroundingUsageError(Exception):
    """Raised where bad input enters (a path, a checkpoint, a judge name, a case file). The message may quote a
    store's labels and run ids, so it is made printable."""

    def __init__(self, message: str):
        super().__init__(printable(str(message), lines=True))


def printable(text: str, *, lines: bool = False) -> str:
    """Text as it may reach a terminal: escape sequences and control characters (C0, DEL, C1) removed, so that a
    label or an output read from a store cannot move the cursor, erase a line or retitle the window. With
    `lines`, newlines and tabs are kept; without, each becomes a space."""
    text = SEQUENCE.sub("", text)
    return CONTROL_BUT_LINES.sub("", text) if lines else CONTROL.sub("", text.replace("\n", " ").replace("\t", " "))


def shown(value: object) -> str:
    """A value as it reads inside a one-line message: as is when printable, else quoted with escapes."""
    return value if isinstance(value, str) and value.isprintable() else repr(value)
