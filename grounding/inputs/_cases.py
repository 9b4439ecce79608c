"""Case files: TOML data with one [[case]] table per instruction, checked value by value where they are read."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Mapping

from grounding.errors import GroundingUsageError
from grounding.inputs._expectations import a_list_of_strings, a_string, expect_problem, table_problem
from grounding.types import Case

FIELDS = {"id": a_string, "instruction": a_string, "contrasts": a_list_of_strings, "category": a_string,
          "concepts": a_list_of_strings,
          "expect": lambda value: None}  # `expect` is checked per modality


def _fail(path: Path, problem: str) -> GroundingUsageError:
    return GroundingUsageError(
        f"Case file {path}: {problem}. A case file is TOML with a top-level `modality` and one [[case]] table per "
        f"instruction, each with a string `id` and `instruction` (and optionally `contrasts` and `concepts`, lists "
        f"of strings; `category`, a string; `expect`, a table); see suites/cases/text_to_image.toml."
    )


def case_from_table(table: Mapping[str, Any], modality: str) -> Case:
    """A Case from one [[case]] table; ValueError names the first problem."""
    problem = table_problem(table, FIELDS, required=("id", "instruction"))
    if problem is None and not table["id"].strip():
        problem = "`id` is empty"
    if problem is None and not table["instruction"].strip():
        problem = "`instruction` is empty"
    if problem is None:
        problem = expect_problem(modality, table.get("expect", {}))
    if problem:
        raise ValueError(problem)
    return Case(id=table["id"], modality=modality, instruction=table["instruction"],
                contrasts=tuple(table.get("contrasts", ())), category=table.get("category", ""),
                concepts=tuple(table.get("concepts", ())), expect=dict(table.get("expect", {})))


def load_cases(path: str | Path, modality: str | None = None) -> tuple[Case, ...]:
    """Read and validate a case file; the modality defaults to the file's top-level `modality` key."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "no such file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise _fail(path, f"not valid TOML ({err})") from None
    modality = modality or data.get("modality")
    if not modality or not isinstance(modality, str):
        raise _fail(path, "no `modality` string at the top")
    unknown = [k for k in data if k not in ("modality", "case")]
    if unknown:
        raise _fail(path, f"unknown top-level key(s) {', '.join(map(repr, unknown))}")
    tables = data.get("case", [])
    if not isinstance(tables, list) or not tables:
        raise _fail(path, "it holds no [[case]] tables")
    cases, seen = [], {}
    for n, table in enumerate(tables, start=1):
        try:
            case = case_from_table(table, modality)
        except ValueError as err:
            named = f" ({table['id']!r})" if isinstance(table.get("id"), str) else ""
            raise _fail(path, f"case #{n}{named}: {err}") from None
        if case.id in seen:
            raise _fail(path, f"case id {case.id!r} appears twice (cases #{seen[case.id]} and #{n})")
        seen[case.id] = n
        cases.append(case)
    return tuple(cases)


def profile_case_file(path: str | Path, folder: str | None) -> Path:
    """A profile's own copy of a case file (cases/thorough/file.toml beside cases/file.toml) where it exists,
    else the file itself."""
    path = Path(path)
    own = path.parent / folder / path.name if folder else path
    return own if own.is_file() else path
