"""Plain data across the sandbox boundary: JSON lines whose values decode only to built-in types.

Shared by the tests process and the code process (standard library only; both import it from the
sandbox's read-only /sandbox folder). A value the code returns becomes None, bool, int, float, str,
bytes, list, tuple, dict, set, frozenset or a pathlib path, built here: never an object of the code's
own class, so it cannot bring its own `__eq__`. Everything else is refused with the type's name.
"""

from __future__ import annotations

import base64
import json
import math
import pathlib

MAX_DEPTH = 50
MAX_LINE = 64 << 20
# Bound at import, before any code under test runs, so that a stub replacing json.dumps leaves the wire alone.
_ENCODER = json.JSONEncoder(allow_nan=False)
_DECODER = json.JSONDecoder()
_b64encode, _b64decode = base64.b64encode, base64.b64decode


class WireError(Exception):
    """A value that cannot cross the boundary, or a message that is not well-formed."""


def encode(value, depth: int = 0):
    """`value` as JSON-compatible data; raises WireError for anything that is not plain data."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if kind in (bytes, bytearray):
        return {"$": "bytes", "v": _b64encode(bytes(value)).decode()}
    if kind in (list, tuple, set, frozenset):
        items = [encode(item, depth + 1) for item in value]
        return items if kind is list else {"$": kind.__name__, "v": items}
    if kind is dict:
        return {"$": "dict", "v": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, pathlib.PurePath):
        return {"$": "path", "v": str(value)}
    raise WireError(f"a value of type {kind.__module__}.{kind.__qualname__} cannot cross between the tests and the "
                    f"sandboxed code (only None, bool, int, float, str, bytes, lists, tuples, sets, dicts and paths "
                    f"can)")


def decode(data, depth: int = 0):
    """The built-in value that `encode` described."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item, depth + 1) for item in data]
    if type(data) is not dict or set(data) != {"$", "v"}:
        raise WireError("malformed value")
    tag, raw = data["$"], data["v"]
    if tag == "float" and raw in ("nan", "inf", "-inf"):
        return float(raw)
    if tag == "bytes" and type(raw) is str:
        return _b64decode(raw, validate=True)
    if tag == "path" and type(raw) is str:
        return pathlib.Path(raw)
    if type(raw) is not list:
        raise WireError("malformed value")
    items = [decode(item, depth + 1) for item in raw]
    if tag == "tuple":
        return tuple(items)
    if tag in ("set", "frozenset"):
        return (set if tag == "set" else frozenset)(_hashable(items))
    if tag == "dict" and all(type(pair) is list and len(pair) == 2 for pair in items):
        return {_hashable([k])[0]: v for k, v in items}
    raise WireError(f"malformed value (tag {tag!r})")


def _hashable(items: list) -> list:
    for item in items:
        try:
            hash(item)
        except TypeError:
            raise WireError("an unhashable value as a set item or dict key") from None
    return items


def dumps(message: dict) -> bytes:
    return _ENCODER.encode(message).encode() + b"\n"


def loads(line: bytes) -> dict:
    if len(line) > MAX_LINE:
        raise WireError("a message longer than the limit")
    try:
        message = _DECODER.decode(line.decode())
    except ValueError as err:
        raise WireError(f"a message that is not JSON ({err})") from None
    if type(message) is not dict:
        raise WireError("a message that is not an object")
    return message
