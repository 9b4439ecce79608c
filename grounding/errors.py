"""The one error type for bad input: a concise message that names the problem and the fix."""


class GroundingUsageError(Exception):
    """Raised where bad input enters (a path, a checkpoint, a judge name, a case file)."""
