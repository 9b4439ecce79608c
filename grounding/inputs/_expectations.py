"""What a case's `expect` table may hold, per modality; checked where a case file or an --expect is read.

A modality this version has no judges for (one a user's plugin adds) keeps its `expect` table unchecked:
its own judges read it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Callable, Mapping

Check = Callable[[Any], str | None]  # a problem, or None when the value is fine


def a_string(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be a string, not {_kind(value)}"


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(map(repr, choices))}, not {value!r}"
    return check


def a_list_of_strings(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return f"must be a list of strings, not {_kind(value)}"


def bandit_test_ids(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) and re.fullmatch(r"B\d{3}", v) for v in value):
        return None
    return f"must be a list of bandit test ids such as \"B413\", not {value!r}"


def _rows(value: Any) -> str | None:
    return None if type(value) is int and 1 <= value <= 100 else f"must be a whole number of rows, not {value!r}"


def _count(value: Any) -> str | None:
    return None if type(value) is int and 1 <= value <= 3 else f"must be a whole number from 1 to 3, not {value!r}"


def _table(keys: Mapping[str, Check], required: tuple[str, ...] = ()) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"must be a table, not {_kind(value)}"
        return table_problem(value, keys, required)
    return check


def _tables(keys: Mapping[str, Check], required: tuple[str, ...]) -> Check:
    row = _table(keys, required)

    def check(value: Any) -> str | None:
        if not isinstance(value, list) or not value:
            return f"must be a non-empty list of tables, not {_kind(value)}"
        return next((f"item {n}: {p}" for n, item in enumerate(value, 1) if (p := row(item))), None)
    return check


def table_problem(table: Mapping[str, Any], keys: Mapping[str, Check], required: tuple[str, ...] = ()) -> str | None:
    """The first problem with a table: a missing or unknown key, or a value its check refuses."""
    missing = [k for k in required if k not in table]
    if missing:
        return f"lacks {', '.join(missing)}"
    unknown = [k for k in table if k not in keys]
    if unknown:
        return f"has unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(keys)})"
    return next((f"`{k}` {p}" for k, v in table.items() if (p := keys[k](v))), None)


def _kind(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), type(value).__name__)


@cache
def _schemas() -> dict[str, dict[str, Check]]:
    from grounding.shapes_world.ascii import ASCII_SIZES, READ_SHAPES, SCENES, STYLES
    from grounding.shapes_world.world import COLOURS, SHAPES, SIDES, SIZES

    thing = {"colour": _one_of(*COLOURS), "shape": _one_of(*SHAPES), "size": _one_of(*SIZES)}
    return {
        "text-to-image": {"things": _tables(thing, ("colour", "shape")), "count": _count, "side": _one_of(*SIDES),
                          "world": _one_of("shapes")},
        "ascii-art": {"shape": _one_of(*READ_SHAPES), "size": _one_of(*ASCII_SIZES), "style": _one_of(*STYLES),
                      "scene": _one_of(*SCENES), "small_max_rows": _rows, "large_min_rows": _rows},
        "code": {"tests": a_string, "severity": _one_of("low", "medium", "high"),
                 "confidence": _one_of("low", "medium", "high"), "skip_findings": bandit_test_ids, "setup": a_string,
                 "skip_tests": a_list_of_strings, "sandbox": _table({"subprocess": lambda v: None if isinstance(v, bool)
                                                          else f"must be true or false, not {v!r}"})},
    }


def expect_problem(modality: str, expect: Any) -> str | None:
    """Why an `expect` value cannot be used for this modality, or None."""
    if not isinstance(expect, dict):
        return f"`expect` must be a table, not {_kind(expect)}"
    keys = _schemas().get(modality)
    if keys is None:
        return None
    problem = table_problem(expect, keys)
    return f"`expect` {problem}" if problem else None
