"""The one error type for bad input: a concise message that names the problem and the fix."""


class GroundingUsageError(Exception):
    """Raised where bad input enters (a path, a checkpoint, a judge name, a case file)."""


def shown(value: object) -> str:
    """A value as it reads inside a one-line message: as is when printable, else quoted with escapes."""
    return value if isinstance(value, str) and value.isprintable() else repr(value)
